import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Why a reply failed, as a code (`timeout`, `stream_cut`, `unexpected`...) next to the
 * message in `error`, so failures can be counted and filtered without parsing English.
 * Nullable, no default: nothing is rewritten, instant on a large audit; older rows keep null.
 */
export class ExchangeErrorCode1765800000000 implements MigrationInterface {
  name = 'ExchangeErrorCode1765800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE stream_exchanges ADD COLUMN error_code text NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE stream_exchanges DROP COLUMN error_code`);
  }
}
