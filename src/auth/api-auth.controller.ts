import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { ApiAuthStatusDto } from './dto/api-auth-status.dto';

/** Outside /api on purpose: every /api route needs the key, this one exists for those who have none yet. */
@ApiTags('auth')
@Controller('auth')
export class ApiAuthController {
  constructor(private readonly config: AppConfig) {}

  @Get('status')
  @ApiOperation({
    summary: 'Whether an API key is configured',
    description:
      'Public and says nothing else, so the call desk sign-in page can tell "no key configured" from "wrong key".',
    security: [],
  })
  @ApiOkResponse({ type: ApiAuthStatusDto })
  status(): ApiAuthStatusDto {
    return { api_key_configured: this.config.api.key !== undefined };
  }
}
