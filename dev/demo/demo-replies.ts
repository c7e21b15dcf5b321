import type { FakeResponder } from '../fake-llm/fake-llm-scenario';

/** Canned answers so the demo sounds like a support line rather than an echo. */
const REPLIES: Array<[RegExp, string]> = [
  [/opening hours|open/i, 'We are open from nine to six, Monday to Friday, and from ten to four on Saturdays.'],
  [
    /everything|story|detail/i,
    'Acme started in a small garage in 1987, selling hand-made tools to neighbours. Over the years we grew into ' +
      'a family of twelve stores, each with its own workshop, where customers can try every tool before they buy it. ' +
      'We still repair anything we sell, for as long as you own it.',
  ],
  [/saturday/i, 'On Saturdays we are open from ten in the morning to four in the afternoon.'],
  [/bye|thanks|thank you/i, 'You are welcome. Have a great day!'],
];

export const demoResponder: FakeResponder = (request) => {
  const messages = request.body.messages ?? [];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  const text = typeof last?.content === 'string' ? last.content : '';
  const match = REPLIES.find(([pattern]) => pattern.test(text));
  return { kind: 'text', text: match ? match[1] : 'Sure, let me help you with that.' };
};
