import type { ChatRequestBody } from './fake-llm-request';

/**
 * Replies that sound like a support line, for people trying the service by hand
 * (`npm run fake-llm` then `npm run call`). Several sentences each, so at the CLI's
 * pace a reply lasts long enough to be interrupted. Never repeats the prompt: the
 * greeting request carries instructions, not words a caller said.
 */
const GREETING = 'Hello, and thanks for calling! How can I help you today?';

const TOPICS: Array<[RegExp, string]> = [
  [
    /\b(hours?|open|close[sd]?|saturday|sunday|weekend)\b/i,
    'We are open from nine in the morning to six in the evening, Monday to Friday, and from ten to four on ' +
      'Saturdays. We are closed on Sundays and public holidays. Is there a day you were thinking of coming in?',
  ],
  [
    /\b(book|appointment|reserv\w*|schedule|slot)\b/i,
    'Of course, I can book that for you. I have a free slot tomorrow at half past ten, and another one on ' +
      'Thursday afternoon at three. Which of the two would suit you better?',
  ],
  [
    /\b(price|cost|how much|fee|pay\w*|bill\w*|refund)\b/i,
    'A standard visit costs forty-five dollars, and the follow-up within a month is free. You can pay by card ' +
      'or in cash at the desk. Would you like me to send the price list to you by text message?',
  ],
  [
    /\b(where|address|direction\w*|park\w*)\b/i,
    'We are at 12 Market Street, right next to the central library. There is free parking behind the building, ' +
      'and the number four bus stops just across the road.',
  ],
  [
    /\b(human|person|agent|someone|operator)\b/i,
    'I understand. All our colleagues are busy at the moment, but I can ask someone to call you back within ' +
      'the hour. Shall I do that, on the number you are calling from?',
  ],
  [/\b(bye|goodbye|that'?s all|nothing else)\b/i, 'Thank you for calling, and have a lovely day. Goodbye!'],
  [/\b(thanks|thank you|great|perfect)\b/i, 'You are very welcome. Is there anything else I can help you with today?'],
];

/** When no topic matches; picked by turn so a conversation does not loop on one line. */
const GENERIC = [
  'I see. Could you tell me a little more about that, so that I can point you in the right direction?',
  'Sure, I can help with that. Let me check what we have on file, it will only take a moment. ' +
    'In the meantime, is there anything else you would like me to look at?',
  'That is a good question. The short answer is yes, and our team can go through the details with you ' +
    'whenever it suits you, by phone or at the desk.',
];

/** `said`: the caller's last words, without directives. */
export function conversationReply(body: ChatRequestBody, said: string): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  // Before the agent has said anything, the request is the greeting.
  if (!messages.some((m) => m.role === 'assistant')) return GREETING;
  const topic = TOPICS.find(([pattern]) => pattern.test(said));
  if (topic) return topic[1];
  const turns = messages.filter((m) => m.role === 'user').length;
  return GENERIC[(turns - 1 + GENERIC.length) % GENERIC.length];
}
