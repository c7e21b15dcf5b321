import { renderTemplate } from './prompt-template';

describe('renderTemplate', () => {
  const context = {
    agent_id: 'agent-7',
    customer: { name: 'Ada', address: { city: 'Leeds' }, tags: ['vip', 'new'] },
    visits: 0,
    verified: false,
    notes: null,
    'order-id': 'A-1',
  };

  it('fills top-level and nested paths', () => {
    expect(renderTemplate('Agent {{agent_id}} serves {{customer.name}} from {{customer.address.city}}.', context)).toBe(
      'Agent agent-7 serves Ada from Leeds.',
    );
  });

  it('reads array elements by index', () => {
    expect(renderTemplate('{{customer.tags.1}}', context)).toBe('new');
  });

  it('allows whitespace inside the braces', () => {
    expect(renderTemplate('Hi {{ customer.name }} / {{   agent_id}} / {{visits   }}', context)).toBe(
      'Hi Ada / agent-7 / 0',
    );
  });

  it('accepts dashes in keys', () => {
    expect(renderTemplate('Order {{order-id}}', context)).toBe('Order A-1');
  });

  it('renders falsy values other than null and undefined as text', () => {
    expect(renderTemplate('{{visits}} {{verified}}', context)).toBe('0 false');
  });

  it.each([
    '{{unknown}}',
    '{{customer.unknown}}',
    '{{customer.name.first}}',
    '{{agent_id.length}}',
    '{{notes}}',
    '{{notes.x}}',
  ])('renders %s as empty text', (template) => {
    expect(renderTemplate(`[${template}]`, context)).toBe('[]');
  });

  it('renders objects and arrays as JSON', () => {
    expect(renderTemplate('{{customer.address}} {{customer.tags}}', context)).toBe('{"city":"Leeds"} ["vip","new"]');
  });

  it.each([
    '{{constructor}}',
    '{{__proto__}}',
    '{{toString}}',
    '{{customer.constructor}}',
    '{{customer.__proto__}}',
    '{{constructor.name}}',
  ])('renders the inherited key %s as empty text', (template) => {
    expect(renderTemplate(`[${template}]`, context)).toBe('[]');
  });

  it('replaces every occurrence of a placeholder', () => {
    expect(renderTemplate('{{customer.name}}, {{customer.name}}!', context)).toBe('Ada, Ada!');
  });

  it('leaves text without placeholders untouched', () => {
    const text = 'Plain text with {single} braces and } stray { marks.';

    expect(renderTemplate(text, context)).toBe(text);
  });

  it('renders every placeholder as empty text with an empty context', () => {
    expect(renderTemplate('Hello {{name}}, from {{org.name}}.', {})).toBe('Hello , from .');
  });
});
