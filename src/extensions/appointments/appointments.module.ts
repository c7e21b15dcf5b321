import { Module } from '@nestjs/common';
import { AppointmentsRepository } from './appointments.repository';
import { AppointmentsTools } from './appointments.tools';

/**
 * Example extension: two tools, check_availability and book_slot, over its own table.
 * Importing the module in AppModule is all it takes; an agent turns the tools on by
 * listing them in its profile (or AGENT_TOOLS).
 */
@Module({ providers: [AppointmentsRepository, AppointmentsTools] })
export class AppointmentsModule {}
