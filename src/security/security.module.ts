import { Module } from '@nestjs/common';
import { CallsModule } from '../calls/calls.module';
import { CallAdmission } from './call-admission.service';

/** Admission of WebSocket calls; the adapter that applies it is built in configure-app. */
@Module({
  imports: [CallsModule],
  providers: [CallAdmission],
  exports: [CallAdmission],
})
export class SecurityModule {}
