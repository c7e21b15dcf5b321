import { ApiProperty } from '@nestjs/swagger';

export class ApiAuthStatusDto {
  @ApiProperty({
    description:
      'Whether the service has an API key (API_KEY, or the key it made outside production). Without one every /api request is refused.',
  })
  api_key_configured: boolean;
}
