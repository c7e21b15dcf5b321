import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Put,
  Res,
  UseFilters,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireApiKey } from '../auth/require-api-key.decorator';
import { AgentProfileService } from './agent-profile.service';
import { AgentsExceptionFilter } from './agents.exception';
import { AgentProfileDto, PatchAgentProfileDto, PutAgentProfileDto } from './dto/agent-profile.dto';

const AGENT_ID_PARAM = { name: 'agentId', description: "Millis' agent id, as sent in start_call." };

/** Unknown fields are a 400, not silently dropped: a typo in a profile should not go unnoticed. */
const bodyValidationPipe = new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true });

@ApiTags('agents')
@RequireApiKey()
@UseFilters(AgentsExceptionFilter)
@UsePipes(bodyValidationPipe)
@ApiBadRequestResponse({
  description:
    'The body is invalid or malformed JSON (the message says which field and why), or names an unknown tool.',
})
@Controller('api/agents')
export class AgentsController {
  constructor(private readonly profiles: AgentProfileService) {}

  @Get()
  @ApiOperation({
    summary: 'Every agent profile',
    description: 'Agents without a profile use the environment defaults.',
  })
  @ApiOkResponse({ type: AgentProfileDto, isArray: true })
  list(): Promise<AgentProfileDto[]> {
    return this.profiles.list();
  }

  @Get(':agentId')
  @ApiOperation({ summary: 'One agent profile' })
  @ApiParam(AGENT_ID_PARAM)
  @ApiOkResponse({ type: AgentProfileDto })
  @ApiNotFoundResponse({ description: 'No profile for this agent.' })
  get(@Param('agentId') agentId: string): Promise<AgentProfileDto> {
    return this.profiles.get(agentId);
  }

  @Put(':agentId')
  @ApiOperation({
    summary: 'Create or replace an agent profile',
    description: 'Fields left out fall back to the environment defaults. Calls starting after this see it.',
  })
  @ApiParam(AGENT_ID_PARAM)
  @ApiOkResponse({ type: AgentProfileDto, description: 'Replaced.' })
  @ApiCreatedResponse({ type: AgentProfileDto, description: 'Created.' })
  @ApiPayloadTooLargeResponse({ description: 'The body is over 100 KB.' })
  @ApiUnsupportedMediaTypeResponse({ description: 'The body is not application/json.' })
  async put(
    @Param('agentId') agentId: string,
    @Body() body: PutAgentProfileDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AgentProfileDto> {
    const { profile, created } = await this.profiles.put(agentId, body);
    res.status(created ? 201 : 200);
    return profile;
  }

  @Patch(':agentId')
  @ApiOperation({
    summary: 'Change some fields of an agent profile',
    description: 'null resets a field to the environment default.',
  })
  @ApiParam(AGENT_ID_PARAM)
  @ApiOkResponse({ type: AgentProfileDto })
  @ApiNotFoundResponse({ description: 'No profile for this agent.' })
  @ApiPayloadTooLargeResponse({ description: 'The body is over 100 KB.' })
  @ApiUnsupportedMediaTypeResponse({ description: 'The body is not application/json.' })
  patch(@Param('agentId') agentId: string, @Body() body: PatchAgentProfileDto): Promise<AgentProfileDto> {
    return this.profiles.patch(agentId, body);
  }

  @Delete(':agentId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an agent profile', description: 'The agent goes back to the environment defaults.' })
  @ApiParam(AGENT_ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse({ description: 'No profile for this agent.' })
  remove(@Param('agentId') agentId: string): Promise<void> {
    return this.profiles.remove(agentId);
  }
}
