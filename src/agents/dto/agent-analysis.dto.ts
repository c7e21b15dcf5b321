import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { ANALYSIS_FIELD_TYPES, ANALYSIS_NAME, type AnalysisFieldType } from '../agent-analysis';

const NAME_MESSAGE = 'must be 1 to 40 lower-case letters, digits or _, starting with a letter';

export class AnalysisFieldDto {
  @ApiProperty({ description: 'Key in custom_fields and in `field.<name>` filters.', example: 'appointment_booked' })
  @IsString()
  @Matches(ANALYSIS_NAME, { message: `name ${NAME_MESSAGE}` })
  name: string;

  @ApiProperty({ enum: ANALYSIS_FIELD_TYPES, example: 'boolean' })
  @IsIn(ANALYSIS_FIELD_TYPES)
  type: AnalysisFieldType;

  @ApiPropertyOptional({ description: 'Tells the model what to put there.', example: 'Did the caller book a visit?' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ type: [String], description: 'type enum only: the values to choose from.' })
  @ValidateIf((field: AnalysisFieldDto) => field.type === 'enum' || field.values !== undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(100, { each: true })
  values?: string[];
}

/** The `analysis` object of an agent profile: post-call analysis of this agent's calls. */
export class AgentAnalysisDto {
  @ApiPropertyOptional({
    type: Boolean,
    nullable: true,
    description: 'Analyse this agent\u2019s ended calls; null or left out: ANALYSIS_ENABLED.',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean | null;

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    description: 'Outcomes the model chooses from; null: resolved, follow_up, transferred, abandoned, failed.',
    example: ['resolved', 'follow_up', 'transferred', 'abandoned', 'failed'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(30)
  @Matches(ANALYSIS_NAME, { each: true, message: `each outcome ${NAME_MESSAGE}` })
  outcomes?: string[] | null;

  @ApiPropertyOptional({ type: [AnalysisFieldDto], description: 'Fields the model fills in for each call.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(30)
  @ValidateNested({ each: true })
  @Type(() => AnalysisFieldDto)
  custom_fields?: AnalysisFieldDto[];

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Added to ANALYSIS_PROMPT for this agent\u2019s calls.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(5_000)
  instructions?: string | null;
}
