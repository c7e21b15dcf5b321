import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';

const ISO_8601 = { strict: true, strictSeparator: true };

export class StatsQueryDto {
  @ApiPropertyOptional({ description: 'Start of the window (ISO 8601, inclusive). Default: 24 hours before `to`.' })
  @IsOptional()
  @IsISO8601(ISO_8601, { message: 'from must be an ISO 8601 date or date-time, e.g. 2025-11-18T00:00:00Z' })
  from?: string;

  @ApiPropertyOptional({ description: 'End of the window (ISO 8601, exclusive). Default: now.' })
  @IsOptional()
  @IsISO8601(ISO_8601, { message: 'to must be an ISO 8601 date or date-time, e.g. 2025-11-19T00:00:00Z' })
  to?: string;
}
