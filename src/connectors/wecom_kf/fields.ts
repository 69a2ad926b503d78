/**
 * The field dictionary of 企业微信 微信客服 (sync_msg items): origins, message types and the text
 * worth keeping from each, event types and what they become. The parser reads only these tables.
 */
import type { Meaning } from '../wechat_oa/fields.ts';

/** `origin` of a sync_msg item. */
export const ORIGINS: Record<number, Meaning & { role: 'customer' | 'system' | 'agent' }> = {
  3: { zh: '微信客户发送的消息', en: 'sent by the WeChat customer', role: 'customer' },
  4: { zh: '系统推送的事件消息', en: 'pushed by the system', role: 'system' },
  5: { zh: '接待人员在企业微信客户端发送的消息', en: 'sent by the servicer in WeCom', role: 'agent' },
};

/** Message types; `text` is the path (in the item's typed body) of the text worth keeping. */
export const MESSAGE_TYPES: Record<string, Meaning & { text?: string[] }> = {
  text: { zh: '文本', en: 'text', text: ['content'] },
  image: { zh: '图片', en: 'image' },
  voice: { zh: '语音', en: 'voice' },
  video: { zh: '视频', en: 'video' },
  file: { zh: '文件', en: 'file' },
  location: { zh: '位置', en: 'location', text: ['name', 'address'] },
  link: { zh: '链接', en: 'link', text: ['title', 'desc'] },
  business_card: { zh: '名片', en: 'business card' },
  miniprogram: { zh: '小程序', en: 'mini program', text: ['title'] },
  msgmenu: { zh: '菜单', en: 'menu', text: ['head_content', 'tail_content'] },
  channels_shop_product: { zh: '视频号商品', en: 'Channels shop product', text: ['product_title'] },
  channels_shop_order: { zh: '视频号订单', en: 'Channels shop order', text: ['product_titles'] },
  merged_msg: { zh: '聊天记录', en: 'merged chat record', text: ['title'] },
  channels: { zh: '视频号', en: 'Channels post', text: ['title'] },
  meeting: { zh: '会议', en: 'meeting' },
  schedule: { zh: '日程', en: 'schedule' },
  note: { zh: '笔记', en: 'note' },
};

/** session_status_change.change_type */
export const SESSION_CHANGES: Record<number, Meaning & { becomes: 'assignment' | 'transfer' | 'close' }> = {
  1: { zh: '从接待池接入会话', en: 'taken from the queue', becomes: 'assignment' },
  2: { zh: '转接会话', en: 'transferred', becomes: 'transfer' },
  3: { zh: '结束会话', en: 'ended', becomes: 'close' },
  4: { zh: '重新接入已结束/已转接会话', en: 'taken again after ending or transfer', becomes: 'assignment' },
};

/** Events that are not conversation, with what they are. */
export const OTHER_EVENTS: Record<string, Meaning> = {
  enter_session: { zh: '用户进入会话', en: 'the customer opened the chat (no message yet)' },
  msg_send_fail: { zh: '消息发送失败', en: 'a message did not reach the customer' },
  user_recall_msg: { zh: '用户撤回消息', en: 'the customer recalled a message' },
  servicer_recall_msg: { zh: '接待人员撤回消息', en: 'the servicer recalled a message' },
  reject_customer_msg_switch_change: {
    zh: '拒收客户消息开关变化',
    en: 'the servicer’s reject-messages switch changed',
  },
};

/** servicer_status_change.status (with stop_type 1 = 暂时挂起). */
export const SERVICER_STATUS: Record<number, Meaning> = {
  1: { zh: '接待中', en: 'receiving' },
  2: { zh: '停止接待', en: 'stopped receiving' },
};

/** Answers to a satisfaction menu (msgmenu) come back as text with a menu_id: these words are ratings. */
export const RATING_WORDS = ['非常满意', '满意', '一般', '不满意', '非常不满意', '好评', '中评', '差评'];

/** The callback's notifications (XML): they carry no conversation, only a reason to pull. */
export const CALLBACK_EVENTS: Record<string, Meaning> = {
  kf_msg_or_event: { zh: '有新消息,需调用 sync_msg 拉取', en: 'new messages: pull them with sync_msg' },
  kf_account_auth_change: { zh: '客服账号授权变更', en: 'kf account authorisation changed' },
};
