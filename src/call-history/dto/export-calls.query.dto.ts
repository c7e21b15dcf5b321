import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { CallFiltersQueryDto } from './list-calls.query.dto';

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportCallsQueryDto extends CallFiltersQueryDto {
  @ApiPropertyOptional({
    enum: EXPORT_FORMATS,
    description: 'Output format; without it, `Accept: text/csv` gives CSV and anything else NDJSON.',
  })
  @IsOptional()
  @IsIn(EXPORT_FORMATS, { message: `format must be one of: ${EXPORT_FORMATS.join(', ')}` })
  format?: ExportFormat;
}
