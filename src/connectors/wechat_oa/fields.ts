/**
 * The field dictionary of 公众号 (and 企业微信 self-built app) callbacks and of the 客服 API's
 * chat records: what each MsgType, Event and opercode becomes. Data, so a new message type the
 * platform adds is one line here; the parser reads only these tables.
 */

export interface Meaning {
  zh: string;
  en: string;
}

/** Messages a user sends; `text` names the XML element holding the text worth keeping. */
export const MESSAGE_TYPES: Record<string, Meaning & { text?: string[] }> = {
  text: { zh: '文本', en: 'text', text: ['Content'] },
  image: { zh: '图片', en: 'image' },
  voice: { zh: '语音', en: 'voice', text: ['Recognition'] },
  video: { zh: '视频', en: 'video' },
  shortvideo: { zh: '小视频', en: 'short video' },
  location: { zh: '位置', en: 'location', text: ['Label'] },
  link: { zh: '链接', en: 'link', text: ['Title', 'Description'] },
  file: { zh: '文件', en: 'file', text: ['Title'] },
  miniprogrampage: { zh: '小程序卡片', en: 'mini-program card', text: ['Title'] },
};

/** The 多客服 session events: the only events that are conversation. */
export const SESSION_EVENTS: Record<string, Meaning & { becomes: 'assignment' | 'transfer' | 'close' }> = {
  kf_create_session: { zh: '客服接入会话', en: 'an agent took the session', becomes: 'assignment' },
  kf_switch_session: { zh: '客服转接会话', en: 'the session was transferred', becomes: 'transfer' },
  kf_close_session: { zh: '客服关闭会话', en: 'the agent closed the session', becomes: 'close' },
};

/** Events that are not conversation: kept as rejects that say what they were. */
export const OTHER_EVENTS: Record<string, Meaning> = {
  subscribe: { zh: '关注', en: 'follow' },
  unsubscribe: { zh: '取消关注', en: 'unfollow' },
  scan: { zh: '扫码', en: 'QR code scanned' },
  location: { zh: '上报地理位置', en: 'location report' },
  click: { zh: '点击菜单', en: 'menu click' },
  view: { zh: '点击菜单跳转链接', en: 'menu link opened' },
  view_miniprogram: { zh: '点击菜单跳转小程序', en: 'menu mini-program opened' },
  scancode_push: { zh: '扫码推事件', en: 'scan-code push' },
  scancode_waitmsg: { zh: '扫码推事件且弹出提示框', en: 'scan-code wait' },
  pic_sysphoto: { zh: '弹出系统拍照发图', en: 'photo menu' },
  pic_photo_or_album: { zh: '弹出拍照或者相册发图', en: 'photo or album menu' },
  pic_weixin: { zh: '弹出微信相册发图器', en: 'WeChat album menu' },
  location_select: { zh: '弹出地理位置选择器', en: 'location picker' },
  templatesendjobfinish: { zh: '模板消息发送结果', en: 'template message delivery report' },
  masssendjobfinish: { zh: '群发结果', en: 'mass send report' },
  enter_agent: { zh: '进入应用', en: 'app opened (企业微信)' },
  batch_job_result: { zh: '异步任务完成', en: 'batch job finished (企业微信)' },
  change_contact: { zh: '通讯录变更', en: 'directory change (企业微信)' },
};

/**
 * 客服聊天记录 (customservice/msgrecord/getmsglist) operation codes. 1000–1005 are session
 * operations, 2001–2003 messages: 2002 the agent's, 2001/2003 the customer's (received by the
 * account, and by the agent).
 */
export const OPERCODES: Record<
  number,
  Meaning & { becomes: 'customer' | 'agent' | 'assignment' | 'transfer' | 'close' | null }
> = {
  1000: { zh: '创建未接入会话', en: 'session waiting in the queue', becomes: null },
  1001: { zh: '接入会话', en: 'session taken', becomes: 'assignment' },
  1002: { zh: '主动发起会话', en: 'session started by the agent', becomes: 'assignment' },
  1003: { zh: '转接会话', en: 'session transferred', becomes: 'transfer' },
  1004: { zh: '关闭会话', en: 'session closed', becomes: 'close' },
  1005: { zh: '抢接会话', en: 'session grabbed', becomes: 'assignment' },
  2001: { zh: '公众号收到消息', en: 'message received by the account', becomes: 'customer' },
  2002: { zh: '客服发送消息', en: 'agent message', becomes: 'agent' },
  2003: { zh: '客服收到消息', en: 'message received by the agent', becomes: 'customer' },
};

/** A table's own entry: a key such as "constructor" from a payload must not find Object's. */
export function own<T>(table: Record<string | number, T>, key: string | number | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}
