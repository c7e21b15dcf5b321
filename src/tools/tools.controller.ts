import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { RequireApiKey } from '../auth/require-api-key.decorator';
import { ToolRegistry } from './tool-registry';

export class ToolDto {
  @ApiProperty({ example: 'check_availability' })
  name: string;

  @ApiProperty()
  description: string;

  @ApiProperty({ description: 'JSON schema of the arguments, as sent to the model (before per-agent adjustments).' })
  parameters: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Spoken while the tool is slow.' })
  filler?: string;
}

@ApiTags('agents')
@RequireApiKey()
@Controller('api/tools')
export class ToolsController {
  constructor(private readonly registry: ToolRegistry) {}

  @Get()
  @ApiOperation({
    summary: 'Every tool an agent profile can enable',
    description: 'Built-ins and the tools of extension modules.',
  })
  @ApiOkResponse({ type: ToolDto, isArray: true })
  list(): ToolDto[] {
    return this.registry.list().map((tool) => ({ ...tool.spec, filler: tool.options.filler }));
  }
}
