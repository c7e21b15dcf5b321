import { ValidationPipe } from '@nestjs/common';

/** Query strings into typed DTOs; an unknown parameter is a 400 rather than silently ignored. */
export const queryValidationPipe = new ValidationPipe({
  transform: true,
  whitelist: true,
  forbidNonWhitelisted: true,
  stopAtFirstError: true,
});
