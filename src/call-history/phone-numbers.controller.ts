import { Controller, Get, Param, Query, UseFilters, UsePipes } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { RequireApiKey } from '../auth/require-api-key.decorator';
import { CallHistoryService } from './call-history.service';
import { CallPageDto } from './dto/call-summary.dto';
import { PhoneNumberCallsQueryDto } from './dto/list-calls.query.dto';
import { HistoryExceptionFilter } from './history-exception.filter';
import { queryValidationPipe } from './query-validation.pipe';

@ApiTags('phone numbers')
@RequireApiKey()
@UseFilters(HistoryExceptionFilter)
@UsePipes(queryValidationPipe)
@ApiServiceUnavailableResponse({
  description: 'The query took longer than HISTORY_STATEMENT_TIMEOUT_MS and was cancelled.',
})
@Controller('api/phone-numbers')
export class PhoneNumbersController {
  constructor(private readonly history: CallHistoryService) {}

  @Get(':number/calls')
  @ApiOperation({
    summary: 'Calls from or to a phone number, newest first',
    description:
      'Same filters and pagination as GET /api/calls. Only digits are compared, so +15550100 and "+1 555 0100" are the same.',
  })
  @ApiParam({
    name: 'number',
    description: 'The phone number (URL-encode "+" as %2B or leave it out).',
    example: '+15550100',
  })
  @ApiOkResponse({ type: CallPageDto })
  @ApiBadRequestResponse({ description: 'A query parameter is invalid.' })
  @ApiNotFoundResponse({ description: 'This number was never seen on a call.' })
  listCalls(@Param('number') number: string, @Query() query: PhoneNumberCallsQueryDto): Promise<CallPageDto> {
    return this.history.listCallsForNumber(number, query);
  }
}
