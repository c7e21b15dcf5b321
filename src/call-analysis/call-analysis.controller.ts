import { Controller, HttpCode, HttpStatus, Param, Post, UseFilters } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { RequireApiKey } from '../auth/require-api-key.decorator';
import { CallAnalysisDto } from '../call-history/dto/call-analysis.dto';
import { HistoryExceptionFilter } from '../call-history/history-exception.filter';
import { CallAnalysisRequests } from './call-analysis.requests';

@ApiTags('calls')
@RequireApiKey()
@UseFilters(HistoryExceptionFilter)
@Controller('api/calls')
export class CallAnalysisController {
  constructor(private readonly requests: CallAnalysisRequests) {}

  @Post(':sessionId/analysis')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Analyse the call (again)',
    description:
      'Queues a new analysis of the call, whether or not analysis is enabled for its agent; the one under way, if any, ' +
      'is superseded. Answers at once with the pending analysis: read the result from GET /api/calls/{sessionId}.',
  })
  @ApiParam({ name: 'sessionId', description: "Millis' session id of the call." })
  @ApiAcceptedResponse({ type: CallAnalysisDto, description: 'Queued.' })
  @ApiNotFoundResponse({ description: 'No call with this session id.' })
  @ApiConflictResponse({ description: 'The call is redacted: nothing is left to analyse.' })
  rerun(@Param('sessionId') sessionId: string): Promise<CallAnalysisDto> {
    return this.requests.rerun(sessionId);
  }
}
