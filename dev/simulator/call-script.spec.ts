import { applyCallFlags, validateScript } from './call-script';

describe('applyCallFlags', () => {
  const script = validateScript({
    agent_id: 'script-agent',
    session_id: 'script-session',
    metadata: { customer: 'Ada' },
    voip: { from: '+15550100', to: '+15550199' },
    steps: [{ say: 'Hi' }],
  });

  it('keeps the script as written when no flag is given', () => {
    expect(applyCallFlags(script, {})).toEqual(script);
  });

  it('lets each flag given replace its own field, and only that one', () => {
    expect(applyCallFlags(script, { from: '+15550111' }).voip).toEqual({ from: '+15550111', to: '+15550199' });
    expect(applyCallFlags(script, { to: '+15550122', agentId: 'flag-agent' })).toMatchObject({
      agent_id: 'flag-agent',
      session_id: 'script-session',
      voip: { from: '+15550100', to: '+15550122' },
    });
    expect(applyCallFlags(script, { sessionId: 's', metadata: { customer: 'Bo' } })).toMatchObject({
      session_id: 's',
      metadata: { customer: 'Bo' },
    });
  });

  it('makes a web call a phone call when --from or --to is given', () => {
    const web = validateScript({ steps: [] });
    expect(applyCallFlags(web, {}).voip).toBeUndefined();
    expect(applyCallFlags(web, { from: '+1', to: '+2' }).voip).toEqual({ from: '+1', to: '+2' });
  });
});

describe('validateScript', () => {
  it('says which field is wrong', () => {
    expect(() => validateScript({ voip: { from: 15550100, to: '+1' }, steps: [] })).toThrow(
      '`voip` needs `from` and `to` as strings',
    );
    expect(() => validateScript({ agent_id: 7, steps: [] })).toThrow('`agent_id` must be a string');
    expect(() => validateScript({ metadata: ['a'], steps: [] })).toThrow('`metadata` must be a mapping');
  });
});
