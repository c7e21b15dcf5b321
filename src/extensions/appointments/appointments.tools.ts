import { Injectable } from '@nestjs/common';
import { LlmTool } from '../../tools/llm-tool.decorator';
import { ToolContext, ToolError } from '../../tools/tool-context';
import { BookSlotDto, CheckAvailabilityDto } from './appointment.dto';
import { AppointmentsRepository } from './appointments.repository';

/** Half-hour slots from 09:00 to 17:00 (UTC, to keep the example short). */
const SLOTS = Array.from(
  { length: 16 },
  (_, i) => `${String(9 + Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`,
);

@Injectable()
export class AppointmentsTools {
  constructor(private readonly appointments: AppointmentsRepository) {}

  @LlmTool({
    name: 'check_availability',
    description: 'List the free appointment slots of a day. Call it before offering or booking a time.',
    parameters: CheckAvailabilityDto,
    filler: 'One moment while I check.',
  })
  async checkAvailability({ date }: CheckAvailabilityDto): Promise<{ date: string; free: string[] }> {
    const day = parseDay(date);
    const booked = await this.appointments.bookedBetween(day, new Date(day.getTime() + 86_400_000));
    const taken = new Set(booked.map((d) => d.toISOString().slice(11, 16)));
    return { date, free: SLOTS.filter((slot) => !taken.has(slot)) };
  }

  @LlmTool({
    name: 'book_slot',
    description: 'Book a free slot for the caller. Confirm the day, time and name with the caller first.',
    parameters: BookSlotDto,
    filler: 'Let me book that for you.',
  })
  async bookSlot({ date, time, name }: BookSlotDto, ctx: ToolContext): Promise<{ booked: true; id: string }> {
    if (!SLOTS.includes(time))
      throw new ToolError(`${time} is not a slot; slots are ${SLOTS[0]} to ${SLOTS.at(-1)} every 30 minutes`);
    // The caller hung up or interrupted: do not book behind their back.
    if (ctx.signal.aborted) throw new ToolError('cancelled');
    const startsAt = new Date(`${parseDay(date).toISOString().slice(0, 10)}T${time}:00Z`);
    const booking = await this.appointments.book(startsAt, name, ctx.call.fromNumber, ctx.call.sessionId);
    if (!booking) throw new ToolError(`${date} ${time} is already taken; check availability again`);
    return { booked: true, id: booking.id };
  }
}

function parseDay(date: string): Date {
  const day = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(day.getTime())) throw new ToolError(`${date} is not a valid date`);
  return day;
}
