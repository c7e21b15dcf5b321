import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AgentAnalysisProfile } from './agent-analysis';
import type { AgentProfile } from './agent-settings';

type ProfileFields = Omit<AgentProfile, 'agentId' | 'createdAt' | 'updatedAt'>;

interface ProfileRow {
  agent_id: string;
  name: string | null;
  system_prompt: string | null;
  greeting: string | null;
  model: string | null;
  temperature: number | null;
  max_tokens: number | null;
  tools: string[];
  transfer_destinations: AgentProfile['transferDestinations'];
  fallback_message: string | null;
  farewell_message: string | null;
  providers: string[] | null;
  hedge_after_ms: number | null;
  preemptive_replies: boolean | null;
  analysis: AgentAnalysisProfile | null;
  created_at: Date;
  updated_at: Date;
}

/** agent_profiles, in plain SQL like the rest of the audit side. */
@Injectable()
export class AgentProfileRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findAll(): Promise<AgentProfile[]> {
    const rows: ProfileRow[] = await this.dataSource.query(`SELECT * FROM agent_profiles ORDER BY agent_id`);
    return rows.map(toProfile);
  }

  async find(agentId: string): Promise<AgentProfile | null> {
    const rows: ProfileRow[] = await this.dataSource.query(`SELECT * FROM agent_profiles WHERE agent_id = $1`, [
      agentId,
    ]);
    return rows.length ? toProfile(rows[0]) : null;
  }

  /** Creates or replaces the profile; `created` tells which. */
  async upsert(agentId: string, fields: ProfileFields): Promise<{ profile: AgentProfile; created: boolean }> {
    const rows: Array<ProfileRow & { created: boolean }> = await this.dataSource.query(
      `INSERT INTO agent_profiles AS p
         (agent_id, name, system_prompt, greeting, model, temperature, max_tokens, tools, transfer_destinations,
          fallback_message, farewell_message, providers, hedge_after_ms, preemptive_replies, analysis)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12::jsonb, $13, $14, $15::jsonb)
       ON CONFLICT (agent_id) DO UPDATE SET
         name = EXCLUDED.name,
         system_prompt = EXCLUDED.system_prompt,
         greeting = EXCLUDED.greeting,
         model = EXCLUDED.model,
         temperature = EXCLUDED.temperature,
         max_tokens = EXCLUDED.max_tokens,
         tools = EXCLUDED.tools,
         transfer_destinations = EXCLUDED.transfer_destinations,
         fallback_message = EXCLUDED.fallback_message,
         farewell_message = EXCLUDED.farewell_message,
         providers = EXCLUDED.providers,
         hedge_after_ms = EXCLUDED.hedge_after_ms,
         preemptive_replies = EXCLUDED.preemptive_replies,
         analysis = EXCLUDED.analysis,
         updated_at = now()
       RETURNING p.*, (p.xmax = 0) AS created`,
      [
        agentId,
        fields.name,
        fields.systemPrompt,
        fields.greeting,
        fields.model,
        fields.temperature,
        fields.maxTokens,
        JSON.stringify(fields.tools),
        JSON.stringify(fields.transferDestinations),
        fields.fallbackMessage,
        fields.farewellMessage,
        fields.providers === null ? null : JSON.stringify(fields.providers),
        fields.hedgeAfterMs,
        fields.preemptiveReplies,
        fields.analysis === null ? null : JSON.stringify(fields.analysis),
      ],
    );
    return { profile: toProfile(rows[0]), created: rows[0].created };
  }

  async delete(agentId: string): Promise<boolean> {
    // TypeORM answers a DELETE with [rows, affected].
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM agent_profiles WHERE agent_id = $1`,
      [agentId],
    );
    return affected > 0;
  }
}

function toProfile(row: ProfileRow): AgentProfile {
  return {
    agentId: row.agent_id,
    name: row.name,
    systemPrompt: row.system_prompt,
    greeting: row.greeting,
    model: row.model,
    temperature: row.temperature,
    maxTokens: row.max_tokens,
    tools: row.tools,
    transferDestinations: row.transfer_destinations,
    fallbackMessage: row.fallback_message,
    farewellMessage: row.farewell_message,
    providers: row.providers,
    hedgeAfterMs: row.hedge_after_ms,
    preemptiveReplies: row.preemptive_replies,
    analysis: row.analysis,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
