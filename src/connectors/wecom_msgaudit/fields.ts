/**
 * The field dictionary of 企业微信 会话内容存档 (decrypted msgaudit records): each msgtype, the key
 * of its typed body, and the path of the text worth keeping. The parser reads only these tables.
 */
import type { Meaning } from '../wechat_oa/fields.ts';

export interface MsgTypeEntry extends Meaning {
  /** The key of the typed body when it is not the msgtype (docmsg → doc, markdown → info). */
  body?: string;
  /** Paths inside the body whose strings make the text, joined by a newline. */
  text?: string[][];
}

export const MESSAGE_TYPES: Record<string, MsgTypeEntry> = {
  text: { zh: '文本', en: 'text', text: [['content']] },
  image: { zh: '图片', en: 'image' },
  voice: { zh: '语音', en: 'voice' },
  video: { zh: '视频', en: 'video' },
  emotion: { zh: '表情', en: 'sticker' },
  file: { zh: '文件', en: 'file', text: [['filename']] },
  card: { zh: '名片', en: 'contact card', text: [['corpname']] },
  location: { zh: '位置', en: 'location', text: [['title'], ['address']] },
  link: { zh: '链接', en: 'link', text: [['title'], ['description']] },
  weapp: { zh: '小程序', en: 'mini program', text: [['title'], ['description']] },
  chatrecord: { zh: '会话记录', en: 'forwarded chat record', text: [['title']] },
  todo: { zh: '待办', en: 'to-do', text: [['title'], ['content']] },
  vote: { zh: '投票', en: 'vote', text: [['votetitle']] },
  collect: { zh: '填表', en: 'form', text: [['title']] },
  redpacket: { zh: '红包', en: 'red packet', text: [['wish']] },
  external_redpacket: { zh: '互通红包', en: 'external red packet', body: 'redpacket', text: [['wish']] },
  meeting: { zh: '会议邀请', en: 'meeting invitation', text: [['topic']] },
  docmsg: { zh: '在线文档', en: 'online document', body: 'doc', text: [['title']] },
  markdown: { zh: 'MarkDown', en: 'markdown', body: 'info', text: [['content']] },
  news: { zh: '图文', en: 'news', body: 'info', text: [['item', '0', 'title']] },
  calendar: { zh: '日程', en: 'calendar', text: [['title']] },
  mixed: { zh: '混合消息', en: 'mixed message' },
  meeting_voice_call: { zh: '音频存档', en: 'meeting voice call' },
  voip_doc_share: { zh: '音频共享文档', en: 'document shared in a call', text: [['filename']] },
  sphfeed: { zh: '视频号', en: 'Channels post', text: [['feed_desc']] },
  voiptext: { zh: '音视频通话', en: 'voice/video call' },
  qydiskfile: { zh: '微盘文件', en: 'WeDrive file', body: 'info', text: [['filename']] },
};

/** Records that are not messages, with what they are. */
export const NOT_MESSAGES: Record<string, Meaning> = {
  agree: { zh: '客户同意存档', en: 'the customer agreed to archiving' },
  disagree: { zh: '客户不同意存档', en: 'the customer refused archiving' },
  revoke: { zh: '撤回消息', en: 'a recall' },
};

/** `action` values other than send. */
export const ACTIONS: Record<string, Meaning> = {
  recall: { zh: '撤回', en: 'a recall of an earlier message' },
  switch: { zh: '切换企业日志', en: 'a member switching corps (log record)' },
};

/**
 * Id prefixes: external contacts are wo…/wm…, robots wb…; any other id is a member of the corp
 * (WeCom's documented convention for msgaudit from/tolist).
 */
export const EXTERNAL_PREFIXES = ['wo', 'wm'];
export const ROBOT_PREFIX = 'wb';
