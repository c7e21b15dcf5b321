import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { UnserializableRowError } from '../call-records/postgres-json';
import { describeWriteFailure } from './write-failure';

function postgresError(code: string, message = `failed with ${code}`): DatabaseError {
  const error = new DatabaseError(message, 0, 'error');
  error.code = code;
  error.severity = 'ERROR';
  return error;
}

describe('describeWriteFailure', () => {
  it.each([
    ['54000', 'index row size 7016 exceeds btree version 4 maximum 2704'],
    ['54000', 'string is too long for tsvector'],
    ['54001', 'stack depth limit exceeded'],
    ['22P05', 'unsupported Unicode escape sequence'],
    ['22003', 'value "3000000000" is out of range for type integer'],
    ['23514', 'new row violates check constraint'],
    ['21000', 'ON CONFLICT DO UPDATE command cannot affect row a second time'],
    ['42P01', 'relation "call_sessions" does not exist'],
    ['XX000', 'invalid memory alloc request size'],
  ])('%s is a refusal, with the code and Postgres message carried', (code, message) => {
    expect(describeWriteFailure(postgresError(code, message))).toEqual({ kind: 'refused', code, message });
  });

  it.each([
    '08006',
    '08P01',
    '57P01',
    '57P03',
    '57014',
    '53300',
    '53100',
    '40001',
    '40P01',
    '55P03',
    '58030',
    '28P01',
    '3D000',
    '25006',
  ])('%s is an outage', (code) => {
    expect(describeWriteFailure(postgresError(code)).kind).toBe('outage');
  });

  it('reads the SQLSTATE through the TypeORM wrapper', () => {
    const wrapped = new QueryFailedError('INSERT ...', [], postgresError('54000', 'too long'));

    expect(describeWriteFailure(wrapped)).toEqual({ kind: 'refused', code: '54000', message: 'too long' });
  });

  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    [
      'a broken pipe (a five-letter code that is no SQLSTATE)',
      Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
    ],
    ['a terminated connection', new Error('Connection terminated unexpectedly')],
    ['a pool timeout', new Error('timeout exceeded when trying to connect')],
    ['a query timeout', new Error('Query read timeout')],
  ])('%s is an outage', (_label, error) => {
    expect(describeWriteFailure(error)).toEqual({ kind: 'outage', code: null, message: error.message });
  });

  it('a row the writer cannot serialize is a refusal', () => {
    expect(describeWriteFailure(new UnserializableRowError('Maximum call stack size exceeded'))).toEqual({
      kind: 'refused',
      code: 'unserializable',
      message: 'Maximum call stack size exceeded',
    });
  });
});
