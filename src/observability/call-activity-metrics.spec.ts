import { CallActivityFeed } from '../call-activity/call-activity.feed';
import { AppConfig } from '../config/app-config';
import { CallActivityMetrics, llmErrorCause } from './call-activity-metrics';
import { MetricsService } from './metrics.service';

describe('CallActivityMetrics', () => {
  it('counts a failed reply under the code it carries, whatever its text says', async () => {
    const feed = new CallActivityFeed();
    const metrics = new MetricsService();
    const observer = new CallActivityMetrics(feed, metrics, AppConfig.from({}));
    observer.onModuleInit();
    const failed = (errorCode: 'rate_limited' | 'tool_rounds' | undefined, error: string) =>
      feed.publish({
        type: 'reply_finished',
        sessionId: 's1',
        streamId: 1,
        status: 'failed',
        timeToFirstTokenMs: null,
        totalMs: 20,
        error,
        ...(errorCode ? { errorCode } : {}),
        at: '2025-11-18T09:00:00.000Z',
      });
    failed('rate_limited', 'LLM request timed out');
    failed('tool_rounds', 'rate limited');
    failed(undefined, 'timeout');
    observer.onModuleDestroy();

    const text = await metrics.registry.getSingleMetricAsString('millis_llm_errors_total');
    expect(text).toContain('millis_llm_errors_total{cause="rate_limited"} 1');
    expect(text).toContain('millis_llm_errors_total{cause="other"} 2');
    expect(text).not.toContain('cause="timeout"');
  });

  it('keeps the cause label to the codes worth telling apart', () => {
    expect(llmErrorCause('stream_cut')).toBe('stream_cut');
    expect(llmErrorCause('unexpected')).toBe('other');
  });
});
