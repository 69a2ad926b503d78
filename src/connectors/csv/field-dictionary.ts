/**
 * The header dictionary of the CSV/XLSX import: which column headers mean which canonical field.
 * It is data, not code, so that `cspulse sources dictionaries` can list it and a customer's odd export
 * can be supported by adding a synonym here.
 *
 * Matching is case-, space-, underscore-, dash- and dot-insensitive, and full-width characters count
 * as their half-width forms (see normaliseHeader in columns.ts). When several columns of a file map
 * to the same field, the one whose synonym comes first here wins; the others are reported as ignored
 * (or fill the field's `secondary`, e.g. a second agent column becomes the agent's display name).
 *
 * Vendor headers come from shared/fixtures/cn_saas_fields: 智齿 Sobot (get_detail_by_cid, query_cids,
 * tickets), 企业微信 微信客服 (sync_msg; its statistics fields are daily aggregates, not events, so
 * they are deliberately absent and show up as ignored columns), 美洽 Meiqia, 网易七鱼 Qiyu, 环信 Easemob,
 * 容联七陌/useasy.
 */

export type CanonicalField =
  | 'id'
  | 'kind'
  | 'source'
  | 'ts'
  | 'role'
  | 'sender'
  | 'receiver'
  | 'account'
  | 'accountName'
  | 'customer.id'
  | 'customer.name'
  | 'customer.region'
  | 'customer.tags'
  | 'text'
  | 'msgType'
  | 'channel'
  | 'conversationId'
  | 'tags'
  | 'rating'
  | 'ratingScale'
  | 'comment'
  | 'transfer'
  | 'resolved'
  | 'ticketId'
  | 'status'
  | 'category'
  | 'dueTs'
  | 'amount'
  | 'orderType';

/** A vendor's header with, where the vendor writes codes instead of words, what the codes mean. */
export interface VendorHeader {
  header: string;
  vendor: string;
  /** Raw cell value → canonical value (a role, msgType, ticket status, 'true'/'false'). */
  codes?: Readonly<Record<string, string>>;
  /** The vendor's rating scale, when the header implies one. */
  scale?: '5' | '10' | '3' | '100' | 'good_bad';
  note?: string;
}

export interface FieldEntry {
  field: CanonicalField;
  description: string;
  zh: readonly string[];
  en: readonly string[];
  vendor?: readonly VendorHeader[];
  /** Where a second column mapping to this field goes, when that field has no column of its own. */
  secondary?: CanonicalField;
}

export const FIELD_DICTIONARY: readonly FieldEntry[] = [
  {
    field: 'id',
    description: 'message (event) id; without it a stable id is derived from the row content',
    zh: ['消息ID', '消息编号', '消息id号', '记录ID', '事件ID'],
    en: ['message_id', 'msgid', 'msg_id', 'event_id', 'record_id', 'id'],
    vendor: [
      { header: 'msgid', vendor: 'wecom_kf' },
      { header: 'msgId', vendor: 'easemob' },
    ],
  },
  {
    field: 'kind',
    description:
      'event kind: message (default), assignment, transfer, close, rating, ticket, order, inquiry, presence',
    zh: ['事件类型', '事件', '记录类型', '事件种类'],
    en: ['kind', 'event_type', 'event_kind', 'record_type', 'event'],
  },
  {
    field: 'source',
    description: 'source system of the row (default "csv")',
    zh: ['数据源', '数据来源', '来源系统'],
    en: ['source_system', 'source_name', 'data_source'],
  },
  {
    field: 'ts',
    description: 'when it happened: epoch s/ms, ISO with offset, or local time in the import timezone',
    zh: [
      '时间',
      '发送时间',
      '消息时间',
      '时间戳',
      '发生时间',
      '日期时间',
      '创建时间',
      '记录时间',
      '会话时间',
    ],
    en: [
      'timestamp',
      'send_time',
      'created_at',
      'msgtime',
      'msg_time',
      'time',
      'datetime',
      'date_time',
      'sent_at',
      'create_time',
      'ts',
    ],
    vendor: [
      { header: 'send_time', vendor: 'wecom_kf', note: 'unix seconds' },
      { header: 'msgtime', vendor: 'wecom_msgaudit', note: 'unix ms' },
      { header: 'ts', vendor: 'sobot', note: 'get_detail_by_cid "yyyy-MM-dd HH:mm:ss"' },
      { header: 't', vendor: 'sobot', note: 'get_detail_by_cid ms timestamp' },
      { header: 'createTime', vendor: 'useasy' },
    ],
  },
  {
    field: 'role',
    description:
      'sender role: 客户/访客/用户 → customer; 客服/坐席/人工 → agent; 机器人 → bot; 系统 → system',
    zh: ['发送方', '发送者角色', '角色', '发送方类型', '发送者类型', '发送人类型', '发送人角色', '消息方向'],
    en: ['sender_role', 'role', 'from_type', 'sender_kind', 'user_type', 'direction'],
    vendor: [
      { header: 'sender_type', vendor: 'sobot', codes: { '0': 'customer', '1': 'bot', '2': 'agent' } },
      { header: 'sender_type_cn', vendor: 'sobot', note: '用户/机器人/客服' },
      { header: 'origin', vendor: 'wecom_kf', codes: { '3': 'customer', '4': 'system', '5': 'agent' } },
      { header: 'fromUser.userType', vendor: 'easemob' },
      { header: 'lastMessage.fromUser', vendor: 'qiyu', codes: { '0': 'agent', '1': 'customer' } },
    ],
  },
  {
    field: 'sender',
    description: 'who sent the message (name or id); with an agent column it lets the role be inferred',
    zh: [
      '发送人',
      '发送者',
      '发送人ID',
      '发送者ID',
      '发言人',
      '发送人昵称',
      '发送者名称',
      '发送人名称',
      '发送人姓名',
    ],
    en: [
      'sender',
      'sender_id',
      'sender_name',
      'from',
      'from_user',
      'from_name',
      'from_id',
      'author',
      'speaker',
    ],
    vendor: [
      { header: 'sender_name', vendor: 'sobot' },
      { header: 'fromUser.nicename', vendor: 'easemob' },
    ],
  },
  {
    field: 'receiver',
    description:
      'who received the message; without a customer column it names the customer of agent messages',
    zh: ['接收人', '接收者', '接收方', '接收人ID', '接收者ID', '接收人昵称', '接收者昵称'],
    en: ['receiver', 'receiver_id', 'receiver_name', 'recipient', 'to_user', 'to'],
    vendor: [{ header: 'receiver_name', vendor: 'sobot' }],
  },
  {
    field: 'account',
    description: "the agent's account (id or login); for agent and bot messages the sender",
    zh: [
      '客服账号',
      '客服',
      '客服ID',
      '服务人员ID',
      '接待客服',
      '接待人员',
      '接待人员ID',
      '坐席',
      '坐席ID',
      '坐席账号',
      '客服工号',
      '坐席工号',
      '客服帐号',
      '处理人',
      '受理人',
      '负责人',
      '员工账号',
    ],
    en: [
      'UserName',
      'staff_name',
      'agent',
      'agent_id',
      'servicer_userid',
      'servicer',
      'agent_account',
      'staff_id',
      'staff',
      'operator',
      'operator_id',
      'assignee',
      'agent_number',
    ],
    vendor: [
      { header: 'servicer_userid', vendor: 'wecom_kf' },
      { header: 'agentid', vendor: 'sobot' },
      { header: 'agent_account', vendor: 'meiqia' },
      { header: 'agent_ID', vendor: 'meiqia' },
      { header: 'staffId', vendor: 'qiyu' },
      { header: 'staffName', vendor: 'qiyu', note: 'same normalised form as staff_name' },
      { header: 'agentNumber', vendor: 'useasy' },
      { header: 'deal_agent_name', vendor: 'sobot', note: 'ticket lists' },
      { header: 'summary_staff_name', vendor: 'sobot', note: 'service summaries' },
    ],
    secondary: 'accountName',
  },
  {
    field: 'accountName',
    description: "the agent's display name",
    zh: [
      '客服姓名',
      '客服昵称',
      '客服名称',
      '坐席名称',
      '坐席姓名',
      '坐席昵称',
      '接待客服姓名',
      '接待人员姓名',
      '员工姓名',
    ],
    en: ['agent_name', 'agent_nick', 'agent_nick_name', 'agent_nickname', 'servicer_name', 'staff_nick'],
    vendor: [
      { header: 'agent_name', vendor: 'sobot' },
      { header: 'agent_nick', vendor: 'sobot' },
      { header: 'agent_nick_name', vendor: 'meiqia' },
      { header: 'agentName', vendor: 'useasy' },
    ],
  },
  {
    field: 'customer.id',
    description: 'the customer (visitor, buyer) id',
    zh: [
      '客户ID',
      '访客ID',
      '顾客',
      '顾客ID',
      '客户',
      '访客',
      '用户ID',
      '客户编号',
      '买家',
      '买家ID',
      '会员ID',
      '客户账号',
    ],
    en: [
      'customer_id',
      'external_userid',
      'openid',
      'visitor_id',
      'visitorid',
      'user_id',
      'userid',
      'client_id',
      'customer',
      'visitor',
      'buyer_id',
      'contact_id',
      'member_id',
      'uid',
    ],
    vendor: [
      { header: 'external_userid', vendor: 'wecom_kf' },
      { header: 'visitorid', vendor: 'sobot' },
      { header: 'userid', vendor: 'sobot' },
      { header: 'client_id', vendor: 'meiqia' },
      { header: 'foreignId', vendor: 'qiyu' },
    ],
    secondary: 'customer.name',
  },
  {
    field: 'customer.name',
    description: "the customer's name or nickname",
    zh: [
      '客户姓名',
      '客户昵称',
      '客户名称',
      '访客姓名',
      '访客昵称',
      '访客名称',
      '用户昵称',
      '用户名称',
      '买家昵称',
      '顾客姓名',
    ],
    en: ['customer_name', 'visitor_name', 'customer_nick', 'user_nick', 'buyer_name', 'contact_name'],
    vendor: [{ header: 'user_nick', vendor: 'sobot' }],
  },
  {
    field: 'customer.region',
    description: "the customer's region",
    zh: ['地区', '省份', '城市', '所在地区', '访客地区', '客户地区', '地域', '归属地', '所在地'],
    en: ['region', 'province', 'city', 'location', 'area', 'visitor_location', 'customer_region'],
    vendor: [{ header: 'visitor_location', vendor: 'meiqia' }],
  },
  {
    field: 'customer.tags',
    description: 'tags on the customer (separated by , ; 、 |)',
    zh: ['客户标签', '访客标签', '用户标签'],
    en: ['customer_tags', 'visitor_tags', 'user_label', 'user_tags'],
    vendor: [
      { header: 'visitor_tags', vendor: 'meiqia' },
      { header: 'user_label', vendor: 'sobot' },
    ],
  },
  {
    field: 'text',
    description: 'message text',
    zh: ['内容', '消息内容', '聊天内容', '消息', '文本', '对话内容', '聊天记录', '消息文本', '文本内容'],
    en: ['text', 'content', 'message', 'msg', 'body', 'msg_content', 'message_content', 'text.content'],
    vendor: [
      { header: 'msg', vendor: 'sobot' },
      { header: 'text.content', vendor: 'wecom_kf', note: 'flattened JSON export' },
    ],
  },
  {
    field: 'msgType',
    description: 'message type (text, image, voice, …)',
    zh: ['消息类型', '内容类型', '消息格式'],
    en: ['msgtype', 'msg_type', 'type', 'message_type', 'content_type'],
    vendor: [
      // Same normalised header as WeCom's msgtype: the codes only apply to numeric values, WeCom writes words.
      {
        header: 'msg_type',
        vendor: 'sobot',
        codes: { '0': 'text', '1': 'image', '2': 'voice', '3': 'rich' },
      },
      { header: 'msgtype', vendor: 'wecom_kf' },
      { header: 'msg_type_cn', vendor: 'sobot', note: '文本/图片/音频/富文本' },
    ],
  },
  {
    field: 'channel',
    description: 'where the conversation happens (default "import")',
    zh: ['渠道', '来源渠道', '接入渠道', '来源', '渠道来源', '咨询渠道', '接入方式', '平台', '渠道名称'],
    en: ['channel', 'source', 'platform', 'channel_name', 'source_channel'],
  },
  {
    field: 'conversationId',
    description: "the platform's conversation/session id",
    zh: ['会话ID', '会话编号', '会话标识', '会话', '对话ID', '会话id号', '咨询ID'],
    en: [
      'session_id',
      'conversation_id',
      'chat_id',
      'conv_id',
      'thread_id',
      'dialog_id',
      'cid',
      'sessionServiceId',
    ],
    vendor: [
      { header: 'cid', vendor: 'sobot' },
      { header: 'conv_id', vendor: 'meiqia' },
      { header: 'sessionServiceId', vendor: 'easemob' },
      { header: 'sessionID', vendor: '7moor/useasy' },
    ],
  },
  {
    field: 'tags',
    description: 'tags on the conversation (separated by , ; 、 |)',
    zh: ['标签', '会话标签', '会话分类标签'],
    en: ['tags', 'tag', 'labels', 'conversation_tags', 'session_tags'],
  },
  {
    field: 'rating',
    description:
      'satisfaction rating (a number or 满意/一般/不满意, good/bad); on a message row it adds a rating event',
    zh: ['满意度', '评价', '评分', '满意度评价', '评价结果', '客户评价', '满意度评分', '评价等级'],
    en: ['rating', 'csat', 'score', 'satisfaction', 'evaluation', 'rating_score'],
    vendor: [
      {
        header: 'evaluation',
        vendor: 'qiyu',
        scale: '100',
        note: '2-level 100/1, 3-level 100/50/1, 5-level 100…1',
      },
    ],
  },
  {
    field: 'ratingScale',
    description: "the rating's scale: 5, 10, 3, 100 or good_bad",
    zh: ['评分制', '评价等级制', '评分等级'],
    en: ['rating_scale', 'scale', 'score_scale'],
  },
  {
    field: 'comment',
    description: 'rating comment',
    zh: ['评价内容', '评价备注', '评语', '评价留言'],
    en: ['comment', 'rating_comment', 'evaluation_remark', 'feedback'],
    vendor: [{ header: 'evaluationRemark', vendor: 'qiyu' }],
  },
  {
    field: 'transfer',
    description: 'assignment rows: whether it is a transfer (是/否, true/false)',
    zh: ['是否转接', '转接'],
    en: ['transfer', 'is_transfer', 'transferred'],
  },
  {
    field: 'resolved',
    description: "close rows: the platform's resolved flag",
    zh: ['是否解决', '解决状态', '已解决', '问题状态'],
    en: ['resolved', 'is_resolved', 'solved'],
    vendor: [
      { header: 'question_status', vendor: 'sobot', codes: { '1': 'true', '0': 'false' } },
      { header: 'userResolvedStatus', vendor: 'qiyu', codes: { '1': 'true', '2': 'false', '0': '' } },
    ],
  },
  {
    field: 'ticketId',
    description: 'ticket rows: the ticket id',
    zh: ['工单ID', '工单编号', '工单号'],
    en: ['ticket_id', 'ticketid', 'ticket_code', 'ticket_no', 'ticket_number'],
    vendor: [
      { header: 'ticketid', vendor: 'sobot' },
      { header: 'ticket_code', vendor: 'sobot' },
    ],
  },
  {
    field: 'status',
    description:
      'ticket rows: created/updated/escalated/resolved/closed/reopened; presence rows: online/busy/away/offline',
    zh: ['状态', '工单状态', '在线状态', '处理状态'],
    en: ['status', 'state', 'ticket_status', 'presence'],
    vendor: [
      {
        header: 'ticket_status',
        vendor: 'sobot',
        codes: { '0': 'created', '1': 'updated', '2': 'updated', '3': 'resolved', '99': 'closed' },
      },
    ],
  },
  {
    field: 'category',
    description: 'ticket rows: category',
    zh: ['分类', '工单分类', '问题分类', '咨询分类', '类别', '问题类型'],
    en: ['category', 'ticket_category', 'ticket_type_name'],
    vendor: [{ header: 'ticket_type_name', vendor: 'sobot' }],
  },
  {
    field: 'dueTs',
    description: 'ticket rows: due time',
    zh: ['截止时间', '到期时间', '处理时限', '截止日期'],
    en: ['due', 'due_at', 'due_time', 'deadline'],
  },
  {
    field: 'amount',
    description: 'order rows: amount',
    zh: ['金额', '订单金额', '成交金额', '实付金额', '支付金额'],
    en: ['amount', 'order_amount', 'total', 'price', 'payment'],
  },
  {
    field: 'orderType',
    description: 'order rows: order or inquiry',
    zh: ['订单类型'],
    en: ['order_type'],
  },
];

/** Values of the role column. */
export const ROLE_WORDS: Readonly<Record<string, 'customer' | 'agent' | 'bot' | 'system'>> = {
  客户: 'customer',
  访客: 'customer',
  用户: 'customer',
  顾客: 'customer',
  买家: 'customer',
  粉丝: 'customer',
  customer: 'customer',
  visitor: 'customer',
  user: 'customer',
  client: 'customer',
  buyer: 'customer',
  contact: 'customer',
  inbound: 'customer',
  in: 'customer',
  客服: 'agent',
  坐席: 'agent',
  人工: 'agent',
  人工客服: 'agent',
  接待人员: 'agent',
  员工: 'agent',
  卖家: 'agent',
  agent: 'agent',
  staff: 'agent',
  servicer: 'agent',
  admin: 'agent',
  operator: 'agent',
  outbound: 'agent',
  out: 'agent',
  机器人: 'bot',
  智能客服: 'bot',
  智能助手: 'bot',
  自动回复: 'bot',
  bot: 'bot',
  robot: 'bot',
  ai: 'bot',
  auto: 'bot',
  系统: 'system',
  系统消息: 'system',
  system: 'system',
  event: 'system',
};

/** Values of the kind column. */
export const KIND_WORDS: Readonly<Record<string, string>> = {
  message: 'message',
  msg: 'message',
  消息: 'message',
  聊天: 'message',
  assignment: 'assignment',
  assign: 'assignment',
  分配: 'assignment',
  接入: 'assignment',
  接待: 'assignment',
  transfer: 'transfer',
  转接: 'transfer',
  close: 'close',
  closed: 'close',
  结束: 'close',
  关闭: 'close',
  会话结束: 'close',
  rating: 'rating',
  评价: 'rating',
  满意度: 'rating',
  ticket: 'ticket',
  工单: 'ticket',
  order: 'order',
  订单: 'order',
  下单: 'order',
  成交: 'order',
  inquiry: 'inquiry',
  询盘: 'inquiry',
  留资: 'inquiry',
  线索: 'inquiry',
  presence: 'presence',
  在线状态: 'presence',
  状态: 'presence',
};

export const MSGTYPE_WORDS: Readonly<Record<string, string>> = {
  文本: 'text',
  文字: 'text',
  图片: 'image',
  语音: 'voice',
  音频: 'voice',
  视频: 'video',
  文件: 'file',
  链接: 'link',
  位置: 'location',
  表情: 'emotion',
  小程序: 'miniprogram',
  名片: 'card',
  富文本: 'rich',
  事件: 'event',
};

export const TICKET_STATUS_WORDS: Readonly<Record<string, string>> = {
  created: 'created',
  new: 'created',
  open: 'created',
  新建: 'created',
  创建: 'created',
  待处理: 'created',
  尚未受理: 'created',
  未受理: 'created',
  updated: 'updated',
  pending: 'updated',
  处理中: 'updated',
  受理中: 'updated',
  等待回复: 'updated',
  更新: 'updated',
  escalated: 'escalated',
  升级: 'escalated',
  已升级: 'escalated',
  resolved: 'resolved',
  solved: 'resolved',
  已解决: 'resolved',
  解决: 'resolved',
  closed: 'closed',
  已关闭: 'closed',
  关闭: 'closed',
  reopened: 'reopened',
  重新打开: 'reopened',
  重开: 'reopened',
};

export const PRESENCE_WORDS: Readonly<Record<string, string>> = {
  online: 'online',
  在线: 'online',
  空闲: 'online',
  busy: 'busy',
  忙碌: 'busy',
  away: 'away',
  离开: 'away',
  小休: 'away',
  暂离: 'away',
  培训: 'away',
  会议: 'away',
  用餐: 'away',
  offline: 'offline',
  离线: 'offline',
  隐身: 'offline',
};

export const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  yes: true,
  no: false,
  y: true,
  n: false,
  '1': true,
  '0': false,
  是: true,
  否: false,
  已解决: true,
  未解决: false,
  解决: true,
};
