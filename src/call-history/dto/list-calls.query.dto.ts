import { ApiHideProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { SENTIMENTS, type Sentiment } from '../../call-records/call-analysis.types';
import { CALL_STATUSES, type CallStatus } from '../../call-records/call-status';
import { fieldFiltersProblem } from '../field-filters';

const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
const ISO_8601 = { strict: true, strictSeparator: true };

/** Filters of GET /api/calls (and of the export and per-number lists). */
export class CallFiltersQueryDto {
  @ApiPropertyOptional({
    description: 'Calls that started at or after this instant (ISO 8601).',
    example: '2025-11-18T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601(ISO_8601, { message: 'from must be an ISO 8601 date or date-time, e.g. 2025-11-18T09:00:00Z' })
  from?: string;

  @ApiPropertyOptional({
    description: 'Calls that started before this instant (ISO 8601, exclusive).',
    example: '2025-11-19T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601(ISO_8601, { message: 'to must be an ISO 8601 date or date-time, e.g. 2025-11-19T00:00:00Z' })
  to?: string;

  @ApiPropertyOptional({ description: 'Millis agent id.', example: 'agent-1' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  agent_id?: string;

  @ApiPropertyOptional({
    description:
      'A phone number on either side of the call. Only digits are compared: "+1 555 0100" finds "+15550100".',
    example: '+15550100',
  })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  @Matches(/\d/, { message: 'phone must contain digits' })
  phone?: string;

  @ApiPropertyOptional({ enum: CALL_STATUSES, description: 'Call status.' })
  @IsOptional()
  @IsIn(CALL_STATUSES, { message: `status must be one of: ${CALL_STATUSES.join(', ')}` })
  status?: CallStatus;

  @ApiPropertyOptional({
    type: Boolean,
    description: 'true: only calls with a failed exchange; false: only calls without.',
  })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'has_failures must be true or false' })
  has_failures?: boolean;

  @ApiPropertyOptional({
    description:
      'Words to find in what the caller said and what the agent answered; every word must match, as a word prefix.',
    example: 'refund order',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @Matches(/[\p{L}\p{N}]/u, { message: 'q must contain a letter or digit' })
  q?: string;

  @ApiPropertyOptional({
    description: "Calls whose analysis has this outcome (one of the agent's outcomes).",
    example: 'resolved',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{0,39}$/, { message: 'outcome must be an outcome name, e.g. resolved' })
  outcome?: string;

  @ApiPropertyOptional({ enum: SENTIMENTS, description: "Calls whose analysis found this caller's sentiment." })
  @IsOptional()
  @IsIn(SENTIMENTS, { message: `sentiment must be one of: ${SENTIMENTS.join(', ')}` })
  sentiment?: Sentiment;

  /**
   * `field.<name>=value` parameters, gathered by the query pipe (documented on the endpoints):
   * calls whose analysis has this value in that custom field.
   */
  @ApiHideProperty()
  @IsOptional()
  @ValidateBy({
    name: 'fieldFilters',
    validator: {
      validate: (value: unknown) => fieldFiltersProblem(value) === undefined,
      defaultMessage: (args) => fieldFiltersProblem(args?.value) ?? 'invalid field filter',
    },
  })
  field?: Record<string, string>;
}

export class ListCallsQueryDto extends CallFiltersQueryDto {
  @ApiPropertyOptional({ description: 'next_cursor of the previous page.' })
  @IsOptional()
  @IsString()
  cursor?: string;

  @ApiPropertyOptional({ description: 'Calls per page.', default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @Max(200)
  @Min(1)
  @IsInt({ message: 'limit must be an integer' })
  limit: number = 50;
}

export class PhoneNumberCallsQueryDto extends OmitType(ListCallsQueryDto, ['phone'] as const) {}
