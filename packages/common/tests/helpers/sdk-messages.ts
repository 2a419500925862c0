// The messages of a chat request as the OpenAI SDK sends them: every role, a content-part list, an assistant turn
// with tool calls and its tool answer. Schema tests start from it.
export const SDK_CHAT_MESSAGES = [
  { role: 'developer', content: 'be brief' },
  { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'data:x' } }] },
  { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
  { role: 'tool', content: 'ok', tool_call_id: 't1' },
];
