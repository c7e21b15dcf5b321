import { Controller, Get, Query, UseFilters, UsePipes } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { RequireApiKey } from '../auth/require-api-key.decorator';
import { CallHistoryService } from './call-history.service';
import { CallStatsDto } from './dto/call-stats.dto';
import { StatsQueryDto } from './dto/stats.query.dto';
import { HistoryExceptionFilter } from './history-exception.filter';
import { queryValidationPipe } from './query-validation.pipe';

@ApiTags('stats')
@RequireApiKey()
@UseFilters(HistoryExceptionFilter)
@UsePipes(queryValidationPipe)
@ApiServiceUnavailableResponse({
  description: 'The query took longer than HISTORY_STATEMENT_TIMEOUT_MS and was cancelled.',
})
@Controller('api/stats')
export class StatsController {
  constructor(private readonly history: CallHistoryService) {}

  @Get()
  @ApiOperation({
    summary: 'Calls, turns, failures and LLM time to first token (p50/p95), in total, per agent and per UTC day',
    description: 'Over the calls that started in [from, to). Default window: the last 24 hours.',
  })
  @ApiOkResponse({ type: CallStatsDto })
  @ApiBadRequestResponse({ description: 'from or to is not an ISO 8601 date, or from is not before to.' })
  getStats(@Query() query: StatsQueryDto): Promise<CallStatsDto> {
    return this.history.getStats(query);
  }
}
