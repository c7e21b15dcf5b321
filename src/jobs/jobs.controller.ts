import { Controller, Get, Query, UsePipes, ValidationPipe } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireApiKey } from '../auth/require-api-key.decorator';
import { FailedJobDto, FailedJobsQueryDto, QueueSummaryDto } from './dto/job-summary.dto';
import { JobMonitor } from './job-monitor';

@ApiTags('jobs')
@RequireApiKey()
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
@Controller('api/jobs')
export class JobsController {
  constructor(private readonly monitor: JobMonitor) {}

  @Get()
  @ApiOperation({
    summary: 'Each job queue with its jobs by state',
    description:
      'Work done after calls (post-call analysis, webhook deliveries): what waits, runs, retries and failed.',
  })
  @ApiOkResponse({ type: [QueueSummaryDto] })
  queues(): Promise<QueueSummaryDto[]> {
    return this.monitor.queues();
  }

  @Get('failed')
  @ApiOperation({ summary: 'The latest jobs that ran out of attempts, with their last error' })
  @ApiOkResponse({ type: [FailedJobDto] })
  failed(@Query() query: FailedJobsQueryDto): Promise<FailedJobDto[]> {
    return this.monitor.failed(query.queue, query.limit ?? 50);
  }
}
