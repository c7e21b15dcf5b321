import { Module } from '@nestjs/common';
import { CallActivityFeed } from './call-activity.feed';

/** The feed of what happens on calls: published by the call socket, read by metrics, the live view and the cluster. */
@Module({
  providers: [CallActivityFeed],
  exports: [CallActivityFeed],
})
export class CallActivityModule {}
