import {
  Controller,
  Get,
  Logger,
  NotAcceptableException,
  Param,
  Query,
  Req,
  Res,
  UseFilters,
  UsePipes,
} from '@nestjs/common';
import {
  ApiExtraModels,
  ApiNotAcceptableResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiBadRequestResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireApiKey } from '../auth/require-api-key.decorator';
import { describeError } from '../common/describe-error';
import { CallExportService, EXPORT_CONTENT_TYPES } from './call-export.service';
import { CallHistoryService } from './call-history.service';
import { renderTranscriptText } from './call-transcript';
import { CallDetailDto } from './dto/call-detail.dto';
import { CallExportRowDto, CallPageDto } from './dto/call-summary.dto';
import { CallTranscriptDto } from './dto/call-transcript.dto';
import { ExportCallsQueryDto, ExportFormat } from './dto/export-calls.query.dto';
import { ListCallsQueryDto } from './dto/list-calls.query.dto';
import { HistoryExceptionFilter } from './history-exception.filter';
import { queryValidationPipe } from './query-validation.pipe';

const SESSION_ID_PARAM = { name: 'sessionId', description: "Millis' session id of the call." };

/** `field.<name>=value`: not a fixed name, so not a property of the query DTO. */
const FIELD_FILTER_PARAM = {
  name: 'field.<name>',
  required: false,
  type: String,
  description:
    "Calls whose analysis has this value in the agent profile's custom field <name>, e.g. field.appointment_booked=true " +
    'or field.order_number=A-17. true/false and numbers match the typed value (or the same text); several field ' +
    'filters must all match (at most 10).',
};

@ApiTags('calls')
@RequireApiKey()
@UseFilters(HistoryExceptionFilter)
@UsePipes(queryValidationPipe)
@ApiBadRequestResponse({ description: 'A query parameter is invalid (the message says which and why).' })
@ApiServiceUnavailableResponse({
  description: 'The query took longer than HISTORY_STATEMENT_TIMEOUT_MS and was cancelled.',
})
@Controller('api/calls')
export class CallsController {
  private readonly logger = new Logger(CallsController.name);

  constructor(
    private readonly history: CallHistoryService,
    private readonly exporter: CallExportService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List calls, newest first',
    description: 'Keyset pagination: follow next_cursor until it is null.',
  })
  @ApiOkResponse({ type: CallPageDto })
  @ApiQuery(FIELD_FILTER_PARAM)
  list(@Query() query: ListCallsQueryDto): Promise<CallPageDto> {
    return this.history.listCalls(query);
  }

  // Declared before :sessionId so that "export" is not taken for a session id.
  @Get('export')
  @ApiOperation({
    summary: 'Export the filtered calls as NDJSON or CSV',
    description:
      'Streams every matching call (newest first) through a database cursor, however many there are. ' +
      'A client that reads nothing for EXPORT_STALL_TIMEOUT_MS is disconnected. In CSV, a cell that would start a ' +
      "spreadsheet formula (=, +, -, @, tab, CR) gets a leading '.",
  })
  @ApiExtraModels(CallExportRowDto)
  @ApiQuery(FIELD_FILTER_PARAM)
  @ApiProduces(EXPORT_CONTENT_TYPES.ndjson, EXPORT_CONTENT_TYPES.csv)
  @ApiTooManyRequestsResponse({
    description: 'EXPORT_MAX_CONCURRENT exports are already running: try again when one has finished.',
  })
  @ApiOkResponse({
    description: 'One JSON object per line (NDJSON), or CSV with a header row; metadata is a JSON string in CSV.',
    content: {
      [EXPORT_CONTENT_TYPES.ndjson]: { schema: { $ref: getSchemaPath(CallExportRowDto) } },
      [EXPORT_CONTENT_TYPES.csv]: { schema: { type: 'string' } },
    },
  })
  async export(@Query() query: ExportCallsQueryDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const format: ExportFormat =
      query.format ?? (req.accepts(['application/x-ndjson', 'text/csv']) === 'text/csv' ? 'csv' : 'ndjson');
    const write = await this.exporter.prepare(query, format);
    res.setHeader('Content-Type', EXPORT_CONTENT_TYPES[format]);
    res.setHeader('Content-Disposition', `attachment; filename="calls.${format}"`);
    try {
      await write(res);
    } catch (error) {
      // Headers are gone already: all that is left is to cut the response short.
      this.logger.warn(`export stopped: ${describeError(error)}`);
      res.destroy();
    }
  }

  @Get(':sessionId')
  @ApiOperation({ summary: 'One call with its metadata, every exchange and every event, in time order' })
  @ApiParam(SESSION_ID_PARAM)
  @ApiOkResponse({ type: CallDetailDto })
  @ApiNotFoundResponse({ description: 'No call with this session id.' })
  getCall(@Param('sessionId') sessionId: string): Promise<CallDetailDto> {
    return this.history.getCall(sessionId);
  }

  @Get(':sessionId/transcript')
  @ApiOperation({
    summary: 'The conversation as it was heard',
    description:
      'JSON by default; plain text with `Accept: text/plain`. Agent lines are what was actually sent, marked when cut off.',
  })
  @ApiParam(SESSION_ID_PARAM)
  @ApiExtraModels(CallTranscriptDto)
  @ApiProduces('application/json', 'text/plain')
  @ApiOkResponse({
    content: {
      'application/json': { schema: { $ref: getSchemaPath(CallTranscriptDto) } },
      'text/plain': { schema: { type: 'string', example: '[0:02.345] Caller: What are your opening hours?' } },
    },
  })
  @ApiNotFoundResponse({ description: 'No call with this session id.' })
  @ApiNotAcceptableResponse({ description: 'Accept allows neither JSON nor plain text.' })
  async getTranscript(
    @Param('sessionId') sessionId: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CallTranscriptDto | string> {
    const type = req.accepts(['application/json', 'text/plain']);
    if (!type) throw new NotAcceptableException('transcript is available as application/json or text/plain');
    const transcript = await this.history.getTranscript(sessionId);
    if (type === 'application/json') return transcript;
    res.type('text/plain; charset=utf-8');
    return renderTranscriptText(transcript);
  }
}
