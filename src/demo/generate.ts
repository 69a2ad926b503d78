/**
 * Demo data: a realistic month of a 30-agent e-commerce CS team (the team seed 000 imitates: 30
 * agents, 2,000+ conversations a day, 7 back-offices), as canonical events.
 *
 * The point of the demo is that every metric in METRICS.md has something to show, so the simulation
 * deliberately contains the situations the metrics exist for: greeting-only visitors, missed
 * conversations, transfers, offline messages picked up the next morning, bot handoffs, queues, a weak
 * night shift and one overloaded agent, on seven channels with different rating scales.
 *
 * Speed matters (`cspulse demo` should fill a database in seconds), so faker is only used to build the
 * roster; the hot loop picks from precomputed pools with a small seeded PRNG. Everything is derived
 * from the options alone, so the same options give byte-identical output.
 */
import { base, Faker, zh_CN } from '@faker-js/faker';
import type { CanonicalEventInput, EventKind } from '../model/events.ts';
import { DEFAULT_SETTINGS } from '../model/settings.ts';
import { localKeys, wallToUtc } from '../model/time.ts';

export interface DemoOptions {
  /** Number of agents (default 30). Volume scales linearly with it. */
  agents?: number;
  /** Number of local days simulated (default 30). */
  days?: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Last local day simulated, YYYY-MM-DD (default: yesterday in Asia/Shanghai). */
  end?: string;
}

export interface DemoRosterRow {
  name: string;
  employeeNo: string;
  group: string;
  accounts: { platform?: string; account: string }[];
}

/** What a generation run produced, filled in while the generator runs. */
export interface DemoStats {
  conversations: number;
  events: number;
  byKind: Record<EventKind, number>;
  byChannel: Record<string, number>;
  greetingOnly: number;
  missed: number;
  transfers: number;
  /** Conversations that arrived out of hours and waited for the first agent of the next morning. */
  offlineDeferred: number;
  botFirst: number;
  rated: number;
  orders: number;
  inquiries: number;
  tickets: number;
  returning: number;
  /** employeeNo of the agent who is deliberately overloaded. */
  overloaded: string;
}

export function emptyDemoStats(): DemoStats {
  return {
    conversations: 0,
    events: 0,
    byKind: { message: 0, assignment: 0, close: 0, rating: 0, ticket: 0, order: 0, presence: 0 },
    byChannel: {},
    greetingOnly: 0,
    missed: 0,
    transfers: 0,
    offlineDeferred: 0,
    botFirst: 0,
    rated: 0,
    orders: 0,
    inquiries: 0,
    tickets: 0,
    returning: 0,
    overloaded: '',
  };
}

// ---- Constants of the simulated team ----------------------------------------------------------

const TZ = DEFAULT_SETTINGS.timezone;
const SEC = 1000;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Seed 000: "30个人,每天处理2000+咨询". */
const CONV_PER_AGENT_DAY = 70;

/** Monday-first weekday weights (mean 1): e-commerce CS peaks after the weekend. */
const DOW = [1.22, 1.15, 1.0, 0.97, 0.95, 0.88, 0.83];

/** Local-hour arrival weights: a noon peak (11–14), lighter evenings, low but non-zero nights. */
const HOURS_WEEKDAY = [
  0.35, 0.2, 0.12, 0.08, 0.08, 0.12, 0.3, 0.7, 1.5, 2.9, 3.6, 4.4, 4.8, 4.5, 3.8, 3.4, 3.2, 2.9, 2.3, 2.0,
  2.1, 1.9, 1.3, 0.7,
];
const HOURS_WEEKEND = [
  0.5, 0.3, 0.15, 0.1, 0.1, 0.12, 0.25, 0.5, 1.1, 2.2, 3.0, 3.7, 4.0, 3.8, 3.3, 3.1, 3.0, 2.9, 2.7, 2.6, 2.8,
  2.5, 1.7, 0.9,
];
const MAX_HOUR_WEIGHT = 4.8;

type Channel = 'wecom_kf' | 'wechat_oa' | 'feishu' | 'web' | 'app' | 'whatsapp' | 'telegram';
type Group = '售前组' | '售后组' | '投诉组' | '夜班组';

interface ChannelSpec {
  id: Channel;
  share: number;
  /** Overseas customers (WhatsApp, Telegram) write at Chinese night time; B2B Feishu users do not. */
  nightFactor: number;
  /** Native sessions: the platform's session id defines the conversation. */
  session: boolean;
  /** The platform reports queue assignment before an agent answers. */
  queue: boolean;
  bot: string | null;
  prefix: string;
}

const CHANNELS: ChannelSpec[] = [
  { id: 'wecom_kf', share: 0.32, nightFactor: 1, session: true, queue: true, bot: 'kf_robot', prefix: 'wk' },
  { id: 'web', share: 0.18, nightFactor: 1, session: true, queue: true, bot: 'web_bot', prefix: 'web' },
  { id: 'app', share: 0.16, nightFactor: 1, session: true, queue: true, bot: 'app_bot', prefix: 'app' },
  {
    id: 'wechat_oa',
    share: 0.14,
    nightFactor: 1,
    session: false,
    queue: false,
    bot: 'oa_autoreply',
    prefix: '',
  },
  { id: 'whatsapp', share: 0.08, nightFactor: 2.5, session: false, queue: false, bot: null, prefix: '' },
  { id: 'feishu', share: 0.07, nightFactor: 0.3, session: false, queue: false, bot: null, prefix: '' },
  {
    id: 'telegram',
    share: 0.05,
    nightFactor: 2.5,
    session: false,
    queue: false,
    bot: 'cspulse_bot',
    prefix: '',
  },
];

/**
 * Gaps inside one conversation on channels without native sessions stay below this, so the idle
 * timeout (30 min by default) sessionises them back into exactly the conversations generated here.
 */
const MAX_GAP = 25 * MIN;

interface Topic {
  tag: string;
  group: Group;
  weight: number;
  questions: readonly string[];
  details: readonly string[];
  answers: readonly string[];
  order: number;
  inquiry: number;
  ticket: number;
  category: string;
  slaHours: number;
  extraTags: readonly string[];
}

// Customer questions never contain a greeting pattern or a question mark: a conversation must not be
// mistaken for a greeting-only one however strictly the patterns are matched.
const TOPICS: Topic[] = [
  {
    tag: '售前咨询',
    group: '售前组',
    weight: 0.42,
    questions: [
      '这款面霜适合敏感肌用吗',
      '请问这个有现货吗 今天能发吗',
      '这个尺码怎么选 我身高165 体重50kg',
      '和上一代相比有什么区别',
      '买两件能便宜点吗',
      '这个颜色还有货吗',
      '保质期到什么时候',
      '支持花呗分期吗',
      '有没有赠品送',
      '这款和那款哪个更适合送长辈',
      '你们是官方旗舰店吗 有防伪码吗',
      '这个是正品吗 有没有质检报告',
      '想给宝宝买 有婴儿能用的款吗',
      '能发顺丰吗 加钱也可以',
    ],
    details: [
      '我皮肤偏干',
      '主要是送人用的',
      '想今天下单',
      '[链接] 就是这款',
      '预算五百左右',
      '之前买过你们家的精华',
    ],
    answers: [
      '亲,这款是有现货的,今天16点前下单当天发货哦',
      '这款是温和配方,敏感肌也可以放心使用',
      '根据您的身高体重,建议选M码',
      '新款升级了配方,保湿效果更持久',
      '现在下单满299减30,还送旅行装小样',
      '支持花呗分期,3期免息',
      '我们是官方旗舰店,每件商品都有防伪码,可以扫码验证',
      '可以发顺丰的,下单时备注一下就行',
    ],
    order: 0.24,
    inquiry: 0.05,
    ticket: 0,
    category: '商品咨询',
    slaHours: 24,
    extraTags: ['商品咨询', '大促', '会员'],
  },
  {
    tag: '活动优惠',
    group: '售前组',
    weight: 0.08,
    questions: [
      '双十一的优惠券在哪里领',
      '满减活动还有吗',
      '会员折扣怎么算的',
      '我的优惠券用不了',
      '这个价格能保价吗 昨天买贵了',
      '新人券怎么领取',
    ],
    details: ['券是昨天领的', '[图片]', '订单还没付款', '我是黄金会员'],
    answers: [
      '优惠券在店铺首页领取,下单时自动抵扣',
      '满减活动到本周日结束哦',
      '会员在活动价基础上再享95折',
      '这张券需要满199才能使用,您的订单还差一点',
      '7天内降价可以申请保价,我帮您登记一下',
    ],
    order: 0.22,
    inquiry: 0.03,
    ticket: 0,
    category: '活动',
    slaHours: 24,
    extraTags: ['大促', '会员'],
  },
  {
    tag: '物流',
    group: '售后组',
    weight: 0.16,
    questions: [
      '我的快递三天了还没到',
      '单号查不到物流信息',
      '能帮我催一下发货吗',
      '快递显示签收了但我没收到',
      '可以改一下收货地址吗',
      '发的是什么快递',
      '物流一直停在中转站不动了',
      '什么时候能发货 都等好几天了',
    ],
    details: ['订单号 2025110512345678', '[图片]', '我这周末要出门', '地址是公司的 周末没人'],
    answers: [
      '稍等,我帮您查询一下物流',
      '已经帮您联系快递公司核实了,预计明天送达',
      '仓库今天会优先给您发出',
      '地址已经帮您修改好了',
      '快递被放在驿站了,取件码已经发到您手机上',
      '这边给您发的是顺丰,单号稍后同步到订单里',
    ],
    order: 0.03,
    inquiry: 0,
    ticket: 0.015,
    category: '物流',
    slaHours: 48,
    extraTags: ['催单', '加急'],
  },
  {
    tag: '退款',
    group: '售后组',
    weight: 0.1,
    questions: [
      '我申请的退款什么时候到账',
      '退款被拒绝了是什么原因',
      '东西不想要了 可以仅退款吗',
      '退款怎么还没到 已经一周了',
      '取消订单后钱退到哪里了',
    ],
    details: ['退款单号 RF20251105001', '[图片]', '付款用的是信用卡', '商品还没拆封'],
    answers: [
      '退款已经审核通过,1-3个工作日原路退回',
      '麻烦提供一下订单号,我帮您查一下',
      '退款会原路返回到您的支付账户',
      '已经帮您加急处理了,请留意到账通知',
      '这个订单已经发货,需要先拒收或者退回后才能退款',
    ],
    order: 0.02,
    inquiry: 0,
    ticket: 0.04,
    category: '退款',
    slaHours: 24,
    extraTags: ['加急'],
  },
  {
    tag: '退换货',
    group: '售后组',
    weight: 0.08,
    questions: [
      '衣服大了想换小一码',
      '收到的商品有破损 要怎么处理',
      '退货地址发我一下',
      '颜色和图片差别太大 想退货',
      '少发了一件',
    ],
    details: ['[图片]', '[视频]', '包装也压坏了', '标签还在'],
    answers: [
      '给您带来不便非常抱歉,麻烦拍一下破损的照片',
      '支持7天无理由退换,运费险会自动理赔',
      '已经为您登记换货,新的尺码今天发出',
      '退货地址已经发到您的订单留言里了',
      '少发的商品马上给您补发',
    ],
    order: 0.04,
    inquiry: 0,
    ticket: 0.04,
    category: '质量问题',
    slaHours: 24,
    extraTags: ['质量问题'],
  },
  {
    tag: '发票',
    group: '售后组',
    weight: 0.05,
    questions: [
      '需要开增值税专用发票',
      '发票抬头写错了能重开吗',
      '电子发票在哪里下载',
      '公司报销需要纸质发票',
    ],
    details: ['税号 91330100MA2XXXXX1Y', '抬头是杭州某某科技有限公司', '[文件]'],
    answers: [
      '电子发票在订单详情页可以下载',
      '麻烦提供一下开票信息,我这边帮您重开',
      '专票需要提供税号、开户行和账号',
      '已经帮您提交了,3个工作日内开具',
    ],
    order: 0.02,
    inquiry: 0.02,
    ticket: 0.02,
    category: '发票',
    slaHours: 72,
    extraTags: ['财务'],
  },
  {
    tag: '账户问题',
    group: '售后组',
    weight: 0.05,
    questions: [
      '手机号换了怎么改绑',
      '积分怎么查不到了',
      '登录不上去了 一直提示验证码错误',
      '会员等级怎么降了',
    ],
    details: ['[截图]', '原来的号码停用了', '用的是苹果手机'],
    answers: [
      '您可以在「我的-设置-账号安全」里更换手机号',
      '积分有效期是一年,过期的积分会自动清零',
      '我帮您重置一下,请稍后重新登录',
    ],
    order: 0.02,
    inquiry: 0,
    ticket: 0.02,
    category: '账户',
    slaHours: 24,
    extraTags: ['会员'],
  },
  {
    tag: '投诉',
    group: '投诉组',
    weight: 0.06,
    questions: [
      '你们客服态度太差了',
      '等了一个星期还没处理 我要投诉',
      '说好的赠品没有收到 太不靠谱了',
      '买到假货了 要求赔偿',
      '快递员态度恶劣 还把东西扔在门口',
    ],
    details: ['[图片]', '这已经是第二次了', '再不处理我就去12315投诉', '我要求退一赔三'],
    answers: [
      '非常抱歉给您带来不好的体验,我来全程跟进',
      '您反馈的问题已经记录,会在24小时内给您答复',
      '这边先为您申请一张20元无门槛券作为补偿',
      '已经升级给主管处理了,请您放心',
    ],
    order: 0.01,
    inquiry: 0,
    ticket: 0.15,
    category: '投诉',
    slaHours: 12,
    extraTags: ['加急', '升级'],
  },
];

// Exactly the default greeting patterns, so a greeting-only visit is recognised however strictly they match.
const GREETINGS = ['在吗', '你好', '您好', '在不在', '有人吗', '在么', '？', '嗨', '哈喽'];
const GREETINGS_LATIN = ['hi', 'hello', 'hey'];
const NUDGES = ['人呢', '还在吗', '有人吗', '？？', '怎么没人回复'];
const CUSTOMER_FOLLOWUPS = [
  '好的',
  '嗯嗯',
  '明白了',
  '那大概要多久',
  '可以的',
  '那我再等等',
  '还有一个问题',
  '行',
  '麻烦快一点',
  '好的 我试试',
  '收到',
  '就是这个',
  '那运费谁出',
  '能不能今天处理',
];
const CUSTOMER_CLOSINGS = ['好的谢谢', '谢谢', '好的 辛苦了', '嗯嗯 谢谢啦', '没有了 谢谢', '好的'];
const AGENT_GENERIC = [
  '稍等,我帮您查询一下',
  '麻烦提供一下订单号',
  '好的,已经为您备注了',
  '给您带来不便非常抱歉',
  '这边已经帮您记录,会尽快处理',
  '亲,您看一下这样可以吗',
  '已经帮您处理好了',
  '收到,我这边马上跟进',
];
const AGENT_CLOSINGS = [
  '还有其他可以帮您的吗',
  '感谢您的耐心等待,祝您生活愉快~',
  '不客气,有问题随时联系我们哦',
  '好的,那先这样,祝您购物愉快',
];
const DEFERRED_OPENERS = [
  '您好,抱歉让您久等了,看到您的留言了',
  '早上好,您留言的问题我来帮您处理',
  '您好,非常抱歉昨晚没能及时回复您',
];
const BOT_NAME = '智能助手小易';
const BOT_WELCOME = '您好,我是智能助手小易,请简单描述您的问题~';
const BOT_ANSWERS = [
  '您可以在「我的-订单」中查看物流进度。如需人工服务,请回复"转人工"',
  '为您找到以下相关问题:1. 如何申请退款 2. 发票怎么开。如需人工服务,请回复"转人工"',
  '现在咨询人数较多,正在为您转接人工客服,请稍候',
];
const TO_HUMAN = ['转人工', '人工', '人工客服', '转人工客服'];
const TRANSFER_TEXT: Record<string, string> = {
  售后组: '这个问题需要售后同事帮您处理,我帮您转接一下,请稍等',
  投诉组: '非常抱歉给您带来不好的体验,我帮您转接给专门的同事处理,请稍等',
};
const AFTER_TRANSFER: Record<string, string> = {
  售后组: '您好,我是售后专员,刚刚的情况我已经了解了',
  投诉组: '您好,我是客诉专员,非常抱歉给您带来困扰',
};
const CUSTOMER_FILES = ['发票信息.pdf', '订单截图.png', '营业执照.pdf', '退货单.xlsx'];
const AGENT_FILES = ['退换货流程.pdf', '电子发票.pdf', '尺码对照表.pdf'];
const COMMENTS_GOOD = ['服务很好', '解决了问题,谢谢', '客服很耐心', '回复很及时', '专业'];
const COMMENTS_MID = ['还行', '一般吧', '问题解决得有点慢'];
const COMMENTS_BAD = ['回复太慢了', '问题没解决', '态度敷衍', '等了半天没人理'];
const ESCALATION_RATE = 0.15;

// Region weights follow where Chinese online shoppers live; unlisted provinces weigh 1.5.
const REGION_WEIGHTS: Record<string, number> = {
  广东省: 12,
  浙江省: 9,
  江苏省: 9,
  上海市: 6,
  北京市: 6,
  山东省: 6,
  四川省: 5,
  河南省: 5,
  湖北省: 4,
  福建省: 4,
  湖南省: 4,
  安徽省: 3,
  河北省: 3,
};
const OVERSEAS_REGIONS = ['海外', '香港特别行政区', '澳门特别行政区', '台湾省'];

// Pinyin for every surname and given-name character of faker's zh_CN person data, so WeCom userids
// and Telegram usernames look like the ones real teams use (zhangwei, liuyang2).
const PINYIN_SOURCE =
  '丁ding 万wan 上官shangguan 严yan 乔qiao 于yu 付fu 令狐linghu 任ren 伍wu 何he 余yu 侯hou 俞yu 倪ni 傅fu ' +
  '关guan 冯feng 刘liu 包bao 卢lu 史shi 叶ye 司徒situ 司马sima 向xiang 吕lv 吴wu 周zhou 唐tang 夏xia ' +
  '夏侯xiahou 姚yao 姜jiang 孔kong 孙sun 孟meng 季ji 安an 宋song 尉迟yuchi 尚shang 尹yin 岳yue 崔cui ' +
  '常chang 庄zhuang 庞pang 康kang 廖liao 张zhang 彭peng 徐xu 慕容murong 成cheng 戴dai 文wen 方fang 施shi ' +
  '易yi 曹cao 曾zeng 朱zhu 李li 杜du 杨yang 林lin 柳liu 柴chai 梁liang 樊fan 欧阳ouyang 武wu 段duan ' +
  '殷yin 毕bi 毛mao 江jiang 汤tang 汪wang 沈shen 洪hong 涂tu 温wen 潘pan 焦jiao 熊xiong 牛niu 王wang ' +
  '田tian 申shen 申屠shentu 白bai 皇甫huangfu 石shi 祁qi 祝zhu 秦qin 程cheng 章zhang 简jian 纪ji 罗luo ' +
  '翟zhai 耿geng 聂nie 肖xiao 胡hu 芦lu 苏su 范fan 莫mo 萧xiao 葛ge 董dong 蒋jiang 蓝lan 蔡cai 薛xue ' +
  '袁yuan 覃qin 许xu 诸葛zhuge 谢xie 谭tan 贺he 贾jia 赖lai 赵zhao 邓deng 邢xing 邱qiu 邵shao 邹zou ' +
  '郑zheng 郝hao 郭guo 金jin 钟zhong 钱qian 长孙zhangsun 闫yan 阎yan 陆lu 陈chen 陶tao 雷lei 韦wei ' +
  '韩han 顾gu 颜yan 马ma 骆luo 高gao 魏wei 鲁lu 麦mai 黄huang 黎li 齐qi 龙long 龚gong ' +
  '乐le 驹ju 伟wei 宸chen 泽ze 祺qi 诚cheng 俊jun 驰chi 修xiu 杰jie 洁jie 健jian 柏bai 雄xiong 凯kai ' +
  '瑞rui 博bo 涛tao 超chao 君jun 浩hao 哲zhe 瀚han 嘉jia 懿yi 熙xi 天tian 宇yu 磊lei 翊yi 子zi 涵han ' +
  '轩xuan 骞qian 默mo 展zhan 鹏peng 峻jun 建jian 辉hui 弘hong 彬bin 志zhi 强qiang 思si 淼miao 源yuan ' +
  '聪cong 远yuan 振zhen 家jia 擎qing 苍cang 旭xu 尧yao 昊hao 焱yan 然ran 明ming 晋jin 晓xiao 啸xiao ' +
  '晟sheng 睿rui 智zhi 渊yuan 果guo 楷kai 正zheng 豪hao 洋yang 潇xiao 炎yan 炫xuan 烨ye 华hua 霖lin ' +
  '煜yu 城cheng 熠yi 彤tong 琪qi 瑾jin 瑜yu 皓hao 立li 笑xiao 愚yu 绍shao 耀yao 胤yin 祥xiang 致zhi ' +
  '航hang 苑yuan 荣rong 语yu 堂tang 越yue 鑫xin 钰yu 锦jin 雨yu 雪xue 松song 靖jing 风feng 鸿hong ' +
  '煊xuan 飞fei 鹤he 鹭lu 昕xin 一yi 诺nuo 佳jia 丹dan 丽li 芬fen 芳fang 萍ping 乙yi 依yi 倩qian ' +
  '兰lan 英ying 凤feng 国guo 珍zhen 琴qin 秀xiu 香xiang 娇jiao 娜na 娟juan 婷ting 欣xin 开kai 慧hui ' +
  '悦yue 敏min 晨chen 阳yang 桂gui 梓zi 妍yan 玥yue 萱xuan 馨xin 榕rong 融rong 怡yi 海hai 燕yan 玉yu ' +
  '梅mei 玲ling 珈jia 紫zi 红hong 美mei 艳yan 艺yi 苡yi 沫mo 若ruo 汐xi 蒙meng 诗shi 桐tong 雅ya ' +
  '雯wen 静jing 霞xia 颖ying 馥fu 羽yu 全quan 三san 锋feng 中zhong 义yi 军jun 刚gang 勇yong 呈cheng ' +
  '新xin 平ping 栋dong 良liang 奕yi 辰chen 帅shuai 东dong 政zheng 敬jing 彪biao 韬tao 斌bin 民min ' +
  '沐mu 治zhi 波bo 瑶yao 癸gui 茗ming';
const PINYIN = new Map<string, string>();
for (const entry of PINYIN_SOURCE.split(' ')) {
  const m = /^(\p{Script=Han}+)([a-z]+)$/u.exec(entry);
  if (m) PINYIN.set(m[1]!, m[2]!);
}

function pinyin(hanzi: string): string {
  const whole = PINYIN.get(hanzi);
  if (whole) return whole;
  let out = '';
  for (const ch of hanzi) out += PINYIN.get(ch) ?? ch.codePointAt(0)!.toString(36);
  return out;
}

// ---- PRNG -------------------------------------------------------------------------------------

/** mulberry32: tiny, fast and good enough for a simulation; Math.random cannot be seeded. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(arr: readonly T[]): T {
    return arr[Math.floor(this.next() * arr.length)]!;
  }
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** Log-normal with the given median: the usual shape of response times (many fast, a long tail). */
  logn(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
}

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

function cdf(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i]!;
    out[i] = sum;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

function sample(c: Float64Array, r: number): number {
  let i = 0;
  while (i < c.length - 1 && r >= c[i]!) i++;
  return i;
}

// ---- Options ----------------------------------------------------------------------------------

interface Resolved {
  agents: number;
  days: number;
  seed: number;
  /** Local midnight of each simulated day (epoch ms), plus the day after the range. */
  dayStarts: number[];
  /** ISO weekday (1 = Monday) of each simulated day, plus the day after. */
  weekdays: number[];
  /** Calendar day number (UTC wall days since epoch), for per-day seeds independent of the range. */
  dayNumbers: number[];
  rangeStart: number;
  rangeEnd: number;
}

function resolveOptions(opts: DemoOptions): Resolved {
  const agents = Math.trunc(opts.agents ?? 30);
  const days = Math.trunc(opts.days ?? 30);
  const seed = Math.trunc(opts.seed ?? 1);
  if (!(agents >= 1 && agents <= 10_000)) throw new Error(`demo: agents must be 1–10000, got ${opts.agents}`);
  if (!(days >= 1 && days <= 3660)) throw new Error(`demo: days must be 1–3660, got ${opts.days}`);
  if (!Number.isFinite(seed)) throw new Error(`demo: seed must be a number, got ${opts.seed}`);
  const end = opts.end ?? yesterday();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(end);
  const endWall = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!) : Number.NaN;
  if (!m || Number.isNaN(endWall) || new Date(endWall).getUTCDate() !== +m[3]!) {
    throw new Error(`demo: end must be a date YYYY-MM-DD, got "${end}"`);
  }
  const dayStarts: number[] = [];
  const weekdays: number[] = [];
  const dayNumbers: number[] = [];
  for (let d = 0; d <= days + 1; d++) {
    const wall = endWall - (days - 1 - d) * DAY;
    dayStarts.push(wallToUtc(wall, TZ));
    const wd = new Date(wall).getUTCDay();
    weekdays.push(wd === 0 ? 7 : wd);
    dayNumbers.push(Math.round(wall / DAY));
  }
  return {
    agents,
    days,
    seed,
    dayStarts,
    weekdays,
    dayNumbers,
    rangeStart: dayStarts[0]!,
    rangeEnd: dayStarts[days]!,
  };
}

function yesterday(): string {
  const today = localKeys(Date.now(), TZ).day;
  return new Date(Date.parse(`${today}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
}

/** Conversations arriving on simulated day `d`: its own PRNG, so demoEstimate knows it exactly. */
function dayCount(o: Resolved, d: number): number {
  const r = new Rng(mix(o.seed, o.dayNumbers[d]!));
  const noise = Math.max(0.8, Math.min(1.2, 1 + 0.05 * r.normal()));
  return Math.round(CONV_PER_AGENT_DAY * o.agents * DOW[o.weekdays[d]! - 1]! * noise);
}

// ---- The team -----------------------------------------------------------------------------------

interface Agent {
  i: number;
  name: string;
  employeeNo: string;
  group: Group;
  accounts: Record<Channel, string>;
  /** Multiplies response times: > 1 is slower. */
  speed: number;
  /** Share of the routing within the group. */
  weight: number;
  overloaded: boolean;
  night: boolean;
  late: boolean;
  openers: string[];
}

function groupSizes(n: number): Record<Group, number> {
  const night = n >= 8 ? Math.max(1, Math.round(n * 0.12)) : n >= 4 ? 1 : 0;
  const complaint = n >= 3 ? Math.max(1, Math.round(n * 0.1)) : 0;
  const after = n >= 2 ? Math.max(1, Math.round(n * 0.33)) : 0;
  return { 售前组: n - night - complaint - after, 售后组: after, 投诉组: complaint, 夜班组: night };
}

function buildTeam(n: number, seed: number): Agent[] {
  const faker = new Faker({ locale: [zh_CN, base], seed });
  const rng = new Rng(mix(seed, 0x7ea3));
  const sizes = groupSizes(n);
  const groups: Group[] = [];
  for (const g of ['售前组', '售后组', '投诉组', '夜班组'] as const)
    for (let k = 0; k < sizes[g]; k++) groups.push(g);
  const names = new Set<string>();
  const ids = new Set<string>();
  const team: Agent[] = [];
  const groupIndex: Record<Group, number> = { 售前组: 0, 售后组: 0, 投诉组: 0, 夜班组: 0 };
  for (let i = 0; i < n; i++) {
    let last = '';
    let first = '';
    for (let attempt = 0; attempt < 1000; attempt++) {
      last = faker.person.lastName();
      first = faker.person.firstName();
      if (!names.has(last + first)) break;
    }
    let name = last + first;
    // A team bigger than faker's name space still needs unique names.
    for (let k = 2; names.has(name); k++) name = `${last}${first}${k}`;
    names.add(name);
    let py = pinyin(last) + pinyin(first);
    const stem = py;
    for (let k = 2; ids.has(py); k++) py = `${stem}${k}`;
    ids.add(py);
    const group = groups[i]!;
    const gi = groupIndex[group]++;
    const no = String(i + 1).padStart(3, '0');
    const feishu = `ou_${Array.from({ length: 32 }, () => rng.int(16).toString(16)).join('')}`;
    const phone = `+86${rng.pick(['138', '139', '150', '186', '177'])}${String(rng.int(1e8)).padStart(8, '0')}`;
    const helpdesk = `cs.${py}`;
    team.push({
      i,
      name,
      employeeNo: `KF${no}`,
      group,
      accounts: {
        wecom_kf: py,
        wechat_oa: `kf${2000 + i + 1}@cspulse_shop`,
        feishu,
        web: helpdesk,
        app: helpdesk,
        whatsapp: phone,
        telegram: `kf_${py}`,
      },
      speed: Math.min(1.45, Math.max(0.75, Math.exp(0.18 * rng.normal()))),
      weight: rng.between(0.8, 1.2),
      overloaded: false,
      night: group === '夜班组',
      // Every fourth pre-/after-sales agent covers the evening: business hours end at 18:00, customers do not.
      late: (group === '售前组' || group === '售后组') && gi % 4 === 3,
      openers: [
        `您好,我是客服${first},很高兴为您服务`,
        '亲,在的,请问有什么可以帮您',
        '您好,很高兴为您服务~',
        `您好,我是${first},请问有什么可以帮到您`,
      ],
    });
  }
  const candidates = team.filter((a) => a.group === '售前组' && !a.late);
  const pool = candidates.length ? candidates : team.filter((a) => !a.night);
  const victim = pool.length ? pool[rng.int(pool.length)]! : team[0]!;
  // Seed 000's "某客服同时处理9个会话,触发系统过载预警": far more volume, hence slower replies.
  victim.overloaded = true;
  victim.weight = 4.5;
  victim.speed = 1.9;
  for (const a of team) if (a.night) a.speed = 2.6;
  return team;
}

/** The demo team: who is who on which platform, for `cspulse roster import`. */
export function demoRoster(opts: DemoOptions = {}): DemoRosterRow[] {
  const agents = Math.trunc(opts.agents ?? 30);
  if (!(agents >= 1 && agents <= 10_000)) throw new Error(`demo: agents must be 1–10000, got ${opts.agents}`);
  return buildTeam(agents, Math.trunc(opts.seed ?? 1)).map((a) => ({
    name: a.name,
    employeeNo: a.employeeNo,
    group: a.group,
    accounts: [
      { platform: 'wecom_kf', account: a.accounts.wecom_kf },
      { platform: 'wechat_oa', account: a.accounts.wechat_oa },
      { platform: 'feishu', account: a.accounts.feishu },
      // The self-hosted helpdesk serves both the web widget and the app with one login.
      { account: a.accounts.web },
      { platform: 'whatsapp', account: a.accounts.whatsapp },
      { platform: 'telegram', account: a.accounts.telegram },
    ],
  }));
}

// ---- Shifts -----------------------------------------------------------------------------------

interface Shift {
  a: Agent;
  start: number;
  end: number;
  breakStart: number;
  breakEnd: number;
}

function buildShifts(o: Resolved, team: Agent[]): Shift[][] {
  const nightCount = team.filter((a) => a.night).length;
  const byDay: Shift[][] = [];
  // Day -1 exists only for the night shift that is still on at the first midnight.
  for (let d = -1; d <= o.days; d++) {
    const dayStart = d < 0 ? o.dayStarts[0]! - DAY : o.dayStarts[d]!;
    const wd = d < 0 ? ((o.weekdays[0]! + 5) % 7) + 1 : o.weekdays[d]!;
    const weekend = wd >= 6;
    const dayNo = d < 0 ? o.dayNumbers[0]! - 1 : o.dayNumbers[d]!;
    const shifts: Shift[] = [];
    for (const a of team) {
      const r = new Rng(mix(mix(o.seed, a.i), dayNo));
      if (a.night) {
        // Two nights off a week when the rota allows it.
        if (nightCount >= 3 && (dayNo + a.i * 3) % 7 < 2) continue;
        const start = dayStart + 22 * HOUR + Math.round(r.between(-5, 5) * MIN);
        const end = dayStart + 32 * HOUR + Math.round(r.between(-5, 10) * MIN);
        shifts.push({ a, start, end, breakStart: start + 5 * HOUR, breakEnd: start + 5 * HOUR + 20 * MIN });
        continue;
      }
      const works = weekend ? (a.overloaded ? wd === 6 : r.next() < 0.55) : a.overloaded || r.next() < 0.97;
      if (!works) continue;
      const from = a.late ? 13 : 9;
      const start = dayStart + from * HOUR - Math.round(r.between(0, 12) * MIN);
      const end = dayStart + (from + 9) * HOUR + Math.round(r.between(0, 15) * MIN);
      const breakStart = a.late
        ? dayStart + 17.5 * HOUR + Math.round(r.between(0, 45) * MIN)
        : dayStart + 11.5 * HOUR + Math.round(r.between(0, 90) * MIN);
      shifts.push({ a, start, end, breakStart, breakEnd: breakStart + Math.round(r.between(30, 45) * MIN) });
    }
    // Somebody always has the weekend duty.
    if (!shifts.some((s) => !s.a.night)) {
      const a = team.find((x) => !x.night);
      if (a) {
        const start = dayStart + 9 * HOUR - 5 * MIN;
        shifts.push({
          a,
          start,
          end: start + 9 * HOUR,
          breakStart: start + 3 * HOUR,
          breakEnd: start + 3.5 * HOUR,
        });
      }
    }
    byDay.push(shifts);
  }
  return byDay;
}

// ---- Events -----------------------------------------------------------------------------------

type Ev = CanonicalEventInput & { id: string; ts: number };

/**
 * Stable sort by ts. A typed-array sort of (ts offset, position) keys is several times faster than
 * Array#sort with a comparator, and this sort sees every event once.
 */
function sortByTs(b: Ev[]): Ev[] {
  const n = b.length;
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) if (b[i]!.ts < min) min = b[i]!.ts;
  const keys = new Float64Array(n);
  // Offsets stay within a few hours, so offset × 2^21 + position is an exact integer below 2^53.
  for (let i = 0; i < n; i++) keys[i] = (b[i]!.ts - min) * 2_097_152 + i;
  keys.sort();
  const out: Ev[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = b[keys[i]! % 2_097_152]!;
  return out;
}
type Cust = { id: string; name: string; region: string; tags: string[] };

interface PastCustomer {
  c: Cust;
  lastEnd: number;
  lastChannel: ChannelSpec;
}

const BUSINESS: [number, number][][] = (() => {
  const out: [number, number][][] = [];
  const toMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
  for (let wd = 1; wd <= 7; wd++) {
    const key = String(wd) as '1';
    out[wd] = (DEFAULT_SETTINGS.businessHours.weekly[key] ?? []).map((iv) => [
      toMin(iv.start),
      toMin(iv.end),
    ]);
  }
  return out;
})();

const REGIONS: string[] = (zh_CN.location?.state as string[] | undefined) ?? Object.keys(REGION_WEIGHTS);
const REGION_CDF = cdf(REGIONS.map((r) => REGION_WEIGHTS[r] ?? 1.5));
const LAST_NAMES: string[] = (zh_CN.person?.last_name as { generic?: string[] } | undefined)?.generic ?? [
  '王',
];
const FIRST_NAMES: string[] = (() => {
  const f = zh_CN.person?.first_name as Record<string, string[]> | undefined;
  return f ? [...(f.generic ?? []), ...(f.female ?? []), ...(f.male ?? [])] : ['伟'];
})();
const TOPIC_CDF = cdf(TOPICS.map((t) => t.weight));
const CHANNEL_CDF_DAY = cdf(CHANNELS.map((c) => c.share));
const CHANNEL_CDF_NIGHT = cdf(CHANNELS.map((c) => c.share * c.nightFactor));
const HOUR_CDF_WEEKDAY = cdf(HOURS_WEEKDAY);
const HOUR_CDF_WEEKEND = cdf(HOURS_WEEKEND);

// Order numbers vary per message; a fixed pool keeps the hot loop free of string building.
const ORDER_NUMBER_TEXTS: string[] = (() => {
  const r = new Rng(0x0dde5);
  return Array.from({ length: 256 }, () => `订单号是 202511${String(r.int(1e10)).padStart(10, '0')}`);
})();

/** Tag lists are shared between events: building one array per event would cost more than the event. */
const TAG_SETS: Map<string, string[]> = new Map();
function tagSet(tags: string[]): string[] {
  const key = tags.join('|');
  let t = TAG_SETS.get(key);
  if (!t) {
    t = tags;
    TAG_SETS.set(key, t);
  }
  return t;
}

class Sim {
  private readonly rng: Rng;
  private readonly buckets: (Ev[] | undefined)[] = [];
  private nextHour = 0;
  private maxHour = -1;
  private seq = 0;
  private convNo = 0;
  private custNo = 0;
  private ticketNo = 0;
  private readonly past: PastCustomer[] = [];
  private readonly idPrefix: string;
  private readonly shifts: Shift[][];
  private readonly scratch: Shift[] = [];

  // The conversation being generated.
  private ch: ChannelSpec = CHANNELS[0]!;
  private convId: string | undefined;
  private cust: Cust = { id: '', name: '', region: '', tags: [] };
  private hourLoad = 1;

  constructor(
    private readonly o: Resolved,
    team: Agent[],
    private readonly stats: DemoStats,
  ) {
    this.rng = new Rng(mix(o.seed, 0xc0417));
    this.idPrefix = `demo-${o.seed}-`;
    this.shifts = buildShifts(o, team);
    stats.overloaded = team.find((a) => a.overloaded)?.employeeNo ?? '';
  }

  // -- output --

  private emit(e: Ev): void {
    const h = Math.floor((e.ts - this.o.rangeStart) / HOUR);
    // Generation only moves forward in time, so nothing lands in an hour already handed out.
    const idx = Math.max(h, this.nextHour);
    let b = this.buckets[idx];
    if (!b) {
      b = [];
      this.buckets[idx] = b;
    }
    b.push(e);
    if (idx > this.maxHour) this.maxHour = idx;
  }

  *flush(untilHour: number): Generator<Ev[]> {
    while (this.nextHour < untilHour && this.nextHour <= this.maxHour) {
      const b = this.buckets[this.nextHour];
      this.buckets[this.nextHour] = undefined;
      this.nextHour++;
      if (!b || b.length === 0) continue;
      const out = sortByTs(b);
      const byKind = this.stats.byKind;
      for (const e of out) {
        e.id = this.idPrefix + this.seq++;
        byKind[e.kind]++;
      }
      this.stats.events += out.length;
      yield out;
    }
  }

  private withConv(e: Ev): Ev {
    if (this.convId !== undefined) e.conversationId = this.convId;
    return e;
  }

  // Events are built as complete literals: adding properties afterwards gives every object a second
  // allocation (its property backing store), which doubled the garbage collector's work.
  private msg(
    ts: number,
    role: 'customer' | 'agent' | 'bot',
    account: string | undefined,
    msgType: string,
    text: string,
    tags?: string[],
  ): void {
    const channel = this.ch.id;
    const customer = this.cust;
    const conv = this.convId;
    let e: Ev;
    if (role === 'customer') {
      e =
        conv === undefined
          ? { id: '', source: 'demo', kind: 'message', ts, channel, customer, role, msgType, text }
          : {
              id: '',
              source: 'demo',
              kind: 'message',
              ts,
              channel,
              conversationId: conv,
              customer,
              role,
              msgType,
              text,
            };
    } else if (role === 'agent') {
      e =
        conv === undefined
          ? { id: '', source: 'demo', kind: 'message', ts, channel, customer, role, account, msgType, text }
          : {
              id: '',
              source: 'demo',
              kind: 'message',
              ts,
              channel,
              conversationId: conv,
              customer,
              role,
              account,
              msgType,
              text,
            };
    } else {
      e = {
        id: '',
        source: 'demo',
        kind: 'message',
        ts,
        channel,
        customer,
        role,
        account,
        accountName: BOT_NAME,
        msgType,
        text,
      };
      if (conv !== undefined) e.conversationId = conv;
    }
    if (tags) e.tags = tags;
    this.emit(e);
  }

  private assign(ts: number, a: Agent, transfer: boolean): void {
    const channel = this.ch.id;
    const account = a.accounts[channel];
    const conv = this.convId;
    const e: Ev =
      conv === undefined
        ? { id: '', source: 'demo', kind: 'assignment', ts, channel, customer: this.cust, account }
        : {
            id: '',
            source: 'demo',
            kind: 'assignment',
            ts,
            channel,
            conversationId: conv,
            customer: this.cust,
            account,
          };
    if (transfer) e.transfer = true;
    this.emit(e);
  }

  private close(ts: number, a: Agent | null, resolved: boolean | undefined, tags?: string[]): void {
    const e: Ev = { id: '', source: 'demo', kind: 'close', ts, channel: this.ch.id, customer: this.cust };
    if (a) e.account = a.accounts[this.ch.id];
    if (resolved !== undefined) e.resolved = resolved;
    if (tags) e.tags = tags;
    this.emit(this.withConv(e));
  }

  private presence(ts: number, a: Agent, status: 'online' | 'away' | 'offline'): void {
    if (ts < this.o.rangeStart || ts >= this.o.rangeEnd) return;
    this.emit({
      id: '',
      source: 'demo',
      kind: 'presence',
      ts,
      channel: 'wecom_kf',
      account: a.accounts.wecom_kf,
      status,
    });
  }

  // -- a day --

  day(d: number): void {
    const o = this.o;
    const dayStart = o.dayStarts[d]!;
    for (const s of this.shifts[d + 1]!) {
      this.presence(s.start, s.a, 'online');
      this.presence(s.breakStart, s.a, 'away');
      this.presence(s.breakEnd, s.a, 'online');
      this.presence(s.end, s.a, 'offline');
    }
    // The night shift that started before the range still signs off inside it.
    if (d === 0) {
      for (const s of this.shifts[0]!) {
        if (s.a.night) {
          this.presence(s.breakStart, s.a, 'away');
          this.presence(s.breakEnd, s.a, 'online');
          this.presence(s.end, s.a, 'offline');
        }
      }
    }
    const n = dayCount(o, d);
    const wd = o.weekdays[d]!;
    const hours = wd >= 6 ? HOUR_CDF_WEEKEND : HOUR_CDF_WEEKDAY;
    const offsets = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const h = sample(hours, this.rng.next());
      offsets[k] = h * HOUR + Math.floor(this.rng.next() * HOUR);
    }
    offsets.sort();
    for (let k = 0; k < n; k++) this.conversation(dayStart + offsets[k]!, d);
  }

  // -- agents on duty --

  private onDuty(t: number, d: number, group: Group | null): Shift[] {
    const out = this.scratch;
    out.length = 0;
    for (let k = 0; k <= 1; k++) {
      for (const s of this.shifts[d + k]!) {
        if (
          s.start <= t &&
          t < s.end &&
          !(s.breakStart <= t && t < s.breakEnd) &&
          (group === null || s.a.group === group)
        ) {
          out.push(s);
        }
      }
    }
    return out;
  }

  private pickAgent(t: number, d: number, group: Group): Agent | null {
    let c = this.onDuty(t, d, group);
    if (c.length === 0) c = this.onDuty(t, d, null);
    if (c.length === 0) return null;
    let total = 0;
    for (const s of c) total += s.a.weight;
    let r = this.rng.next() * total;
    for (const s of c) {
      r -= s.a.weight;
      if (r < 0) return s.a;
    }
    return c[c.length - 1]!.a;
  }

  /** The first day-shift agents to come online after `t`: who picks up the night's messages. */
  private nextMorning(t: number, d: number): { a: Agent; at: number } | null {
    let first = Number.POSITIVE_INFINITY;
    for (let k = 1; k <= 2; k++) {
      for (const s of this.shifts[d + k] ?? [])
        if (!s.a.night && s.start > t && s.start < first) first = s.start;
    }
    if (!Number.isFinite(first)) return null;
    const c = this.scratch;
    c.length = 0;
    for (let k = 1; k <= 2; k++) {
      for (const s of this.shifts[d + k] ?? [])
        if (!s.a.night && s.start >= first && s.start < first + 20 * MIN) c.push(s);
    }
    const s = c[this.rng.int(c.length)]!;
    return { a: s.a, at: s.start };
  }

  private nextShiftStart(t: number, d: number): { a: Agent; at: number } | null {
    let best: Shift | null = null;
    for (let k = 1; k <= 2; k++) {
      for (const s of this.shifts[d + k] ?? []) if (s.start > t && (!best || s.start < best.start)) best = s;
    }
    return best ? { a: best.a, at: best.start } : null;
  }

  // -- customers --

  /** A customer who wrote at least a day ago comes back: repeat contacts, FCR and cross-channel identity. */
  private returningCustomer(t0: number): PastCustomer | null {
    if (this.past.length > 50 && this.rng.chance(0.22)) {
      for (let k = 0; k < 3; k++) {
        const p = this.past[this.rng.int(this.past.length)]!;
        if (p.lastEnd < t0 - DAY) {
          this.stats.returning++;
          // Most come back where they wrote before; some switch channel.
          if (this.rng.chance(0.7)) this.ch = p.lastChannel;
          return p;
        }
      }
    }
    return null;
  }

  private newCustomer(): Cust {
    const r = this.rng;
    const overseas = (this.ch.id === 'whatsapp' || this.ch.id === 'telegram') && r.chance(0.35);
    const x = r.next();
    const tags = x < 0.08 ? ['VIP', '老客'] : x < 0.48 ? ['老客'] : ['新客'];
    return {
      id: `C${String(++this.custNo).padStart(7, '0')}`,
      name: r.pick(LAST_NAMES) + r.pick(FIRST_NAMES),
      region: overseas ? r.pick(OVERSEAS_REGIONS) : REGIONS[sample(REGION_CDF, r.next())]!,
      tags: tagSet(tags),
    };
  }

  // -- a conversation --

  private conversation(t0: number, d: number): void {
    const r = this.rng;
    const o = this.o;
    const dayStart = o.dayStarts[d]!;
    const minute = Math.floor((t0 - dayStart) / MIN);
    const hour = Math.floor(minute / 60);
    const wd = o.weekdays[d]!;
    const weekend = wd >= 6;
    const night = hour >= 22 || hour < 8;
    this.ch = CHANNELS[sample(night ? CHANNEL_CDF_NIGHT : CHANNEL_CDF_DAY, r.next())]!;
    const returning = this.returningCustomer(t0);
    this.cust = returning ? returning.c : this.newCustomer();
    const convNo = ++this.convNo;
    this.convId = this.ch.session ? `${this.ch.prefix}-${o.seed}-${convNo}` : undefined;
    const hw = (weekend ? HOURS_WEEKEND : HOURS_WEEKDAY)[hour]!;
    this.hourLoad = 0.8 + (0.5 * hw) / MAX_HOUR_WEIGHT;
    this.stats.conversations++;
    this.stats.byChannel[this.ch.id] = (this.stats.byChannel[this.ch.id] ?? 0) + 1;

    let end: number;
    if (r.chance(0.05)) {
      end = this.greetingOnly(t0, d);
    } else {
      const topic = TOPICS[sample(TOPIC_CDF, r.next())]!;
      const business = BUSINESS[wd]!.some(([a, b]) => minute >= a && minute < b);
      const staff = this.pickAgent(t0, d, topic.group);
      end = -1;
      if (!business && this.ch.session) {
        const p = !staff
          ? 1
          : minute >= 8 * 60 + 30 && minute < 9 * 60
            ? 1
            : weekend && !night && hour < 18
              ? 0.1
              : hour >= 18 && hour < 22
                ? 0.25
                : 0.5;
        if (r.chance(p)) {
          const m = this.nextMorning(t0, d);
          if (m) {
            const pickup = Math.max(m.at, t0) + Math.round(r.logn(8 * MIN, 0.8));
            if (pickup < o.rangeEnd) {
              this.stats.offlineDeferred++;
              end = this.handled(t0, d, m.a, topic, pickup);
            }
          }
        }
      }
      if (end < 0) {
        if (!staff) {
          const next = this.ch.session ? null : this.nextShiftStart(t0, d);
          if (next && next.at - t0 <= 45 * MIN)
            end = this.handled(t0, d, next.a, topic, next.at + Math.round(r.logn(2 * MIN, 0.6)));
          else end = this.missed(t0, null, topic);
        } else if (r.chance(staff.night ? 0.12 : 0.016)) {
          end = this.missed(t0, staff, topic);
        } else {
          end = this.handled(t0, d, staff, topic, 0);
        }
      }
    }
    if (returning) {
      returning.lastEnd = end;
      returning.lastChannel = this.ch;
    } else if (this.past.length < 200_000) {
      this.past.push({ c: this.cust, lastEnd: end, lastChannel: this.ch });
    }
  }

  /** The visitor says 在吗 and leaves: seed 000's 无效会话. */
  private greetingOnly(t0: number, d: number): number {
    const r = this.rng;
    this.stats.greetingOnly++;
    const latin = this.ch.id === 'whatsapp' || this.ch.id === 'telegram';
    let t = t0;
    this.msg(t, 'customer', undefined, 'text', r.pick(latin && r.chance(0.7) ? GREETINGS_LATIN : GREETINGS));
    if (r.chance(0.3)) {
      t += Math.round(r.between(5, 90) * SEC);
      this.msg(t, 'customer', undefined, 'text', r.pick(GREETINGS));
    }
    if (this.ch.queue && r.chance(0.4)) {
      const a = this.pickAgent(t, d, '售前组');
      if (a) {
        t += Math.round(r.logn(5 * SEC, 0.8));
        this.assign(t, a, false);
      }
    }
    // Session platforms close idle sessions themselves.
    if (this.ch.session && r.chance(0.5)) {
      t += Math.round(r.between(5, 30) * MIN);
      this.close(t, null, undefined);
    }
    return t;
  }

  /** A real question that no human answered. */
  private missed(t0: number, a: Agent | null, topic: Topic): number {
    const r = this.rng;
    this.stats.missed++;
    let t = t0;
    this.msg(t, 'customer', undefined, 'text', r.pick(topic.questions));
    if (r.chance(0.4)) {
      t += Math.round(r.between(3, 30) * SEC);
      this.msg(t, 'customer', undefined, 'text', r.pick(topic.details));
    }
    if (a && this.ch.queue) {
      t += Math.round(r.logn(8 * SEC, 0.9) * this.hourLoad);
      this.assign(t, a, false);
    }
    if (r.chance(0.5)) {
      t += Math.round(Math.min(MAX_GAP, r.logn(5 * MIN, 0.7)));
      this.msg(t, 'customer', undefined, 'text', r.pick(NUDGES));
    }
    if (this.ch.session && r.chance(0.4)) {
      t += Math.round(r.between(30, 60) * MIN);
      this.close(t, null, false);
    }
    return t;
  }

  /**
   * A conversation a human answers. `readyAt` > 0 when the agent only gets to it later: an offline
   * message picked up the next morning, or a customer waiting for the first shift of the day.
   */
  private handled(t0: number, d: number, first: Agent, topic: Topic, readyAt: number): number {
    const r = this.rng;
    const ch = this.ch;
    const session = ch.session;
    // Sessionless channels must never idle out in the middle of a conversation.
    const cap = session ? Number.POSITIVE_INFINITY : MAX_GAP;
    const deferred = readyAt > 0 && session;
    let tags: string[] = [topic.tag];
    if (r.chance(0.2)) tags.push(r.pick(topic.extraTags));
    let t = t0;
    let lastCustomer = t0;
    let count = 0;
    const target = 3 + Math.floor(12 * r.next() * (0.5 + 0.5 * r.next()));

    // The customer's opening run.
    if (r.chance(0.3)) {
      this.msg(t, 'customer', undefined, 'text', r.pick(GREETINGS));
      t += Math.round(r.between(2, 20) * SEC);
      count++;
    }
    this.msg(t, 'customer', undefined, 'text', r.pick(topic.questions));
    count++;
    if (r.chance(0.25)) {
      t += Math.round(r.between(3, 25) * SEC);
      this.customerMsg(t, r.pick(topic.details));
      count++;
    }
    lastCustomer = t;

    // A bot answers first on some platforms, then hands over to a human.
    let handoff = false;
    if (ch.bot && !deferred && readyAt === 0 && r.chance(0.15)) {
      this.stats.botFirst++;
      handoff = true;
      t += SEC + r.int(1500);
      this.msg(t, 'bot', ch.bot, 'text', BOT_WELCOME);
      t += SEC + r.int(1500);
      this.msg(t, 'bot', ch.bot, 'text', r.pick(BOT_ANSWERS));
      t += Math.round(r.between(8, 45) * SEC);
      this.msg(t, 'customer', undefined, 'text', r.pick(TO_HUMAN));
      lastCustomer = t;
      count++;
    }

    let agent = first;
    let ready: number;
    if (deferred) {
      ready = Math.max(readyAt, t + SEC);
      this.assign(ready, agent, false);
    } else if (ch.queue || handoff) {
      let wait = r.logn(5 * SEC, 0.9) * this.hourLoad * this.hourLoad;
      if (ch.queue && r.chance(0.04)) wait *= r.between(5, 20);
      ready = t + Math.max(500, Math.round(wait));
      if (readyAt > ready) ready = readyAt;
      this.assign(ready, agent, false);
    } else {
      ready = Math.max(t, readyAt);
    }

    let frt = r.logn(22 * SEC, 0.6) * agent.speed * this.hourLoad;
    if (r.chance(0.04)) frt += r.between(60, 600) * SEC;
    if (deferred) frt = r.between(5, 120) * SEC;
    let reply = ready + Math.max(3 * SEC, Math.round(frt));
    // A customer who has to wait on a sessionless channel writes again, which keeps the thread alive.
    while (!session && reply - lastCustomer > MAX_GAP) {
      lastCustomer += Math.round(r.between(12, 22) * MIN);
      this.msg(lastCustomer, 'customer', undefined, 'text', r.pick(NUDGES));
      count++;
    }
    const firstResponse = reply - t0;

    const transferTo: Group | null =
      r.chance(0.09) && target >= 5
        ? agent.group === '售前组'
          ? r.chance(0.7)
            ? '售后组'
            : '投诉组'
          : agent.group === '售后组'
            ? '投诉组'
            : null
        : null;
    let transferred = false;
    let agentRuns = 0;
    let lastSender: 'customer' | 'agent' = 'customer';
    let customerGone = false;

    while (agentRuns === 0 || count < target) {
      // Agent run.
      t = reply;
      if (agentRuns === 0) {
        this.msg(
          t,
          'agent',
          agent.accounts[ch.id],
          'text',
          deferred ? r.pick(DEFERRED_OPENERS) : r.pick(agent.openers),
          tagSet(tags),
        );
        count++;
        if (r.chance(0.5) || deferred) {
          t += Math.round(r.between(5, 40) * SEC);
          this.msg(t, 'agent', agent.accounts[ch.id], 'text', r.pick(topic.answers));
          count++;
        }
      } else {
        this.agentMsg(t, agent, r.chance(0.6) ? r.pick(topic.answers) : r.pick(AGENT_GENERIC));
        count++;
        if (r.chance(0.3)) {
          t += Math.round(r.between(4, 30) * SEC);
          this.agentMsg(t, agent, r.pick(AGENT_GENERIC));
          count++;
        }
      }
      agentRuns++;
      lastSender = 'agent';
      if (transferTo && !transferred && agentRuns <= 2) {
        const to = this.pickAgent(t, d, transferTo);
        if (to && to !== agent && to.group === transferTo) {
          transferred = true;
          this.stats.transfers++;
          t += Math.round(r.between(5, 30) * SEC);
          this.msg(t, 'agent', agent.accounts[ch.id], 'text', TRANSFER_TEXT[transferTo]!);
          count++;
          t += Math.round(r.between(3, 10) * SEC);
          agent = to;
          this.assign(t, agent, true);
          if (transferTo === '投诉组' && !tags.includes('投诉')) tags = [...tags, '投诉'];
          reply =
            t +
            Math.round(Math.min(cap, Math.max(3 * SEC, r.logn(25 * SEC, 0.7) * agent.speed * this.hourLoad)));
          t = reply;
          this.msg(t, 'agent', agent.accounts[ch.id], 'text', AFTER_TRANSFER[transferTo]!, tagSet(tags));
          count++;
        }
      }
      if (count >= target) break;
      // An offline customer is often gone by the morning.
      if (deferred && agentRuns === 1 && r.chance(0.4)) {
        customerGone = true;
        break;
      }
      // Customer run.
      const think = deferred && agentRuns === 1 ? r.logn(15 * MIN, 1) : r.logn(35 * SEC, 0.9);
      t += Math.round(Math.min(cap, think, 20 * MIN) + 2 * SEC);
      const closing = count + 2 >= target;
      this.customerMsg(
        t,
        closing
          ? r.pick(CUSTOMER_CLOSINGS)
          : r.chance(0.08)
            ? r.pick(ORDER_NUMBER_TEXTS)
            : r.pick(CUSTOMER_FOLLOWUPS),
      );
      count++;
      if (!closing && r.chance(0.35)) {
        t += Math.round(r.between(3, 25) * SEC);
        this.customerMsg(t, r.pick(r.chance(0.5) ? topic.details : CUSTOMER_FOLLOWUPS));
        count++;
      }
      lastSender = 'customer';
      lastCustomer = t;
      if (count >= target) break;
      reply =
        t + Math.round(Math.min(cap, Math.max(2 * SEC, r.logn(28 * SEC, 0.7) * agent.speed * this.hourLoad)));
    }
    if (lastSender === 'customer' && !customerGone && r.chance(0.75)) {
      t += Math.round(Math.min(cap, Math.max(2 * SEC, r.logn(20 * SEC, 0.6) * agent.speed)));
      this.msg(t, 'agent', agent.accounts[ch.id], 'text', r.pick(AGENT_CLOSINGS));
    }

    // Outcome: slow agents, slow first replies, complaints and transfers all cost satisfaction.
    let quality = 4.55 - 0.9 * (agent.speed - 1) + 0.8 * r.normal();
    if (firstResponse > 2 * MIN) quality -= 0.5;
    if (firstResponse > 10 * MIN) quality -= 0.5;
    if (topic.group === '投诉组' || transferTo === '投诉组') quality -= 0.9;
    if (transferred) quality -= 0.2;
    if (customerGone) quality -= 0.3;
    const q = Math.max(1, Math.min(5, Math.round(quality)));

    const closeTags = tagSet(tags);
    if (r.chance(0.9)) {
      t += Math.round(r.between(10, 480) * SEC);
      const resolved =
        ch.id === 'web' || ch.id === 'app' ? (q >= 3 ? r.chance(0.93) : r.chance(0.35)) : undefined;
      this.close(t, agent, resolved, closeTags);
    }
    if (r.chance(0.27)) {
      t += Math.round(r.between(5, 240) * SEC);
      this.rating(t, q);
    }
    if (r.chance(topic.ticket)) this.ticket(t0 + Math.round((t - t0) * 0.6), agent, topic, d);
    this.followUps(t, topic, agent);
    return t;
  }

  private customerMsg(ts: number, text: string): void {
    const x = this.rng.next();
    if (x < 0.78 || text.startsWith('[')) this.msg(ts, 'customer', undefined, 'text', text);
    else if (x < 0.88) this.msg(ts, 'customer', undefined, 'image', '[图片]');
    else if (x < 0.94) this.msg(ts, 'customer', undefined, 'sticker', '[表情]');
    else if (x < 0.98) this.msg(ts, 'customer', undefined, 'voice', '[语音]');
    else this.msg(ts, 'customer', undefined, 'file', this.rng.pick(CUSTOMER_FILES));
  }

  private agentMsg(ts: number, a: Agent, text: string): void {
    const x = this.rng.next();
    const account = a.accounts[this.ch.id];
    if (x < 0.9) this.msg(ts, 'agent', account, 'text', text);
    else if (x < 0.95) this.msg(ts, 'agent', account, 'image', '[图片]');
    else if (x < 0.98) this.msg(ts, 'agent', account, 'file', this.rng.pick(AGENT_FILES));
    else this.msg(ts, 'agent', account, 'sticker', '[表情]');
  }

  private rating(ts: number, q: number): void {
    const r = this.rng;
    this.stats.rated++;
    const e: Ev = {
      id: '',
      source: 'demo',
      kind: 'rating',
      ts,
      channel: this.ch.id,
      customer: this.cust,
      score: q,
    };
    // Each platform has its own scale; METRICS.md maps them all back to 1–5.
    switch (this.ch.id) {
      case 'wecom_kf':
        e.score = q >= 4 ? '满意' : q === 3 ? '一般' : '不满意';
        break;
      case 'web':
      case 'whatsapp':
        e.scale = '5';
        break;
      case 'app':
      case 'telegram':
        e.score = Math.max(0, Math.min(10, q * 2 - (r.chance(0.4) ? 1 : 0)));
        e.scale = '10';
        break;
      case 'feishu':
        e.score = q >= 4 ? 'good' : q <= 2 ? 'bad' : r.chance(0.5) ? 'good' : 'bad';
        e.scale = 'good_bad';
        break;
      default:
        break;
    }
    if (r.chance(0.15)) e.comment = r.pick(q >= 4 ? COMMENTS_GOOD : q === 3 ? COMMENTS_MID : COMMENTS_BAD);
    this.emit(this.withConv(e));
  }

  private ticket(ts: number, a: Agent, topic: Topic, d: number): void {
    const r = this.rng;
    this.stats.tickets++;
    const ticketId = `TK${this.o.seed}-${String(++this.ticketNo).padStart(6, '0')}`;
    const dueTs = ts + topic.slaHours * HOUR;
    const base = {
      id: '',
      source: 'demo',
      kind: 'ticket' as const,
      channel: this.ch.id,
      customer: this.cust,
      ticketId,
      category: topic.category,
      dueTs,
    };
    this.emit(this.withConv({ ...base, ts, status: 'created', account: a.accounts[this.ch.id] }));
    let t = ts;
    let owner = a;
    if (r.chance(topic.group === '投诉组' ? 0.4 : ESCALATION_RATE)) {
      t += Math.round(r.between(1, 8) * HOUR);
      owner =
        this.pickAgent(
          t,
          Math.min(d + Math.floor((t - this.o.dayStarts[d]!) / DAY), this.o.days - 1),
          '投诉组',
        ) ?? a;
      if (t < this.o.rangeEnd)
        this.emit(
          this.withConv({ ...base, ts: t, status: 'escalated', account: owner.accounts[this.ch.id] }),
        );
    }
    // Resolution takes about half the SLA; the tail runs overdue (ticket_overdue_rate).
    t += Math.round(r.logn(topic.slaHours * 0.45 * HOUR, 0.75));
    if (t < this.o.rangeEnd)
      this.emit(this.withConv({ ...base, ts: t, status: 'resolved', account: owner.accounts[this.ch.id] }));
  }

  /** Orders and inquiries by the same customer in the following days: conversion metrics. */
  private followUps(t: number, topic: Topic, a: Agent): void {
    const r = this.rng;
    const pOrder = topic.order * (1.15 - 0.15 * a.speed);
    if (r.chance(pOrder)) {
      const delay = r.chance(0.5) ? r.logn(40 * MIN, 1) : r.between(3 * HOUR, 5 * DAY);
      const ts = t + Math.round(delay);
      if (ts < this.o.rangeEnd) {
        this.stats.orders++;
        const x = r.logn(230, 0.75);
        const amount = r.chance(0.5) ? Math.max(9, Math.round(x / 10) * 10 - 1) : Math.round(x * 100) / 100;
        this.emit({
          id: '',
          source: 'demo',
          kind: 'order',
          ts,
          channel: this.ch.id,
          customer: this.cust,
          type: 'order',
          amount,
        });
      }
    }
    const pInquiry = this.ch.id === 'feishu' ? topic.inquiry * 3 : topic.inquiry;
    if (r.chance(pInquiry)) {
      const ts = t + Math.round(r.between(5 * MIN, 2 * DAY));
      if (ts < this.o.rangeEnd) {
        this.stats.inquiries++;
        this.emit({
          id: '',
          source: 'demo',
          kind: 'order',
          ts,
          channel: this.ch.id,
          customer: this.cust,
          type: 'inquiry',
        });
      }
    }
  }

  hourOf(dayIndex: number): number {
    return Math.round((this.o.dayStarts[dayIndex]! - this.o.rangeStart) / HOUR);
  }
}

/**
 * The demo events, in time order, in batches of one simulated hour. Pass `stats` to learn what was
 * generated (conversations, greeting-only, missed, transfers…) as the batches come out.
 */
export function* generateDemo(opts: DemoOptions = {}, stats?: DemoStats): Generator<CanonicalEventInput[]> {
  const o = resolveOptions(opts);
  const sim = new Sim(o, buildTeam(o.agents, o.seed), stats ?? emptyDemoStats());
  for (let d = 0; d < o.days; d++) {
    sim.day(d);
    // Everything generated later starts on a later day, so the hours before it are final.
    yield* sim.flush(sim.hourOf(d + 1));
  }
  yield* sim.flush(Number.POSITIVE_INFINITY);
}

/** Measured on the default team: events per conversation, and presence events per agent-day. */
const EVENTS_PER_CONVERSATION = 9.1;
const PRESENCE_PER_AGENT_DAY = 3.25;

/** Expected size of a run, for a progress bar: conversations exactly, events approximately. */
export function demoEstimate(opts: DemoOptions = {}): { conversations: number; events: number } {
  const o = resolveOptions(opts);
  let conversations = 0;
  for (let d = 0; d < o.days; d++) conversations += dayCount(o, d);
  return {
    conversations,
    events: Math.round(conversations * EVENTS_PER_CONVERSATION + o.agents * o.days * PRESENCE_PER_AGENT_DAY),
  };
}
