import { DataSource } from 'typeorm';
import { validateEnvironment } from '../config/environment-variables';
import { buildDataSourceOptions } from './data-source-options';

/** For the TypeORM CLI (`npm run migration:run`): needs DATABASE_URL; the app itself runs migrations at start-up. */
const env = validateEnvironment(process.env);
if (!env.DATABASE_URL) {
  throw new Error(
    'DATABASE_URL must be set to run migrations from the CLI (the app migrates the embedded database itself).',
  );
}
export default new DataSource(buildDataSourceOptions(env.DATABASE_URL));
