import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findUnmasked, maskAddress, maskName, maskText } from './masking.ts';

describe('findUnmasked', () => {
  it('finds what a reader would call a phone number or an e-mail', () => {
    expect(findUnmasked('call 138 1234 5678')).toBe('138 1234 5678');
    expect(findUnmasked('x+44 7911 123456')).toBe('+44 7911 123456');
    expect(findUnmasked('to bob@x.com')).toBe('bob@x.com');
    expect(findUnmasked('138****5678, +44 ******3456, b***@x.com')).toBeUndefined();
  });
});

describe('maskText', () => {
  it('masks each kind of personal data as METRICS.md shows', () => {
    expect(maskText('13812345678')).toBe('138****5678');
    expect(maskText('电话 138-1234-5678,谢谢')).toBe('电话 138****5678,谢谢');
    expect(maskText('+86 138 1234 5678')).toBe('+86 138****5678');
    expect(maskText('8613812345678')).toBe('86138****5678');
    expect(maskText('call +44 7911 123456 now')).toBe('call +44 ******3456 now');
    expect(maskText('+1 415 555 2671')).toBe('+1 ******2671');
    expect(maskText('+852 9123 4567')).toBe('+852 ****4567');
    expect(maskText('mail alice.w@example.com pls')).toBe('mail a***@example.com pls');
    expect(maskText('13812345678@qq.com')).toBe('1***@qq.com');
    expect(maskText('身份证 11010519491231002X')).toBe('身份证 110105********002X');
    expect(maskText('4111111111111111')).toBe('************1111');
    expect(maskText('寄到北京市朝阳区建国路88号SOHO现代城5号楼')).toBe('寄到北京市朝阳区****');
    expect(maskText('广东省深圳市南山区科技园科苑路15号')).toBe('广东省深圳市南山区****');
  });

  it('leaves what is not personal data alone', () => {
    for (const s of [
      '订单没到',
      '2025-11-05 14:30:00',
      '订单号 20251105001',
      '4111111111111112', // fails the Luhn check: an order number, not a card
      '北京市朝阳区', // a district alone is not an address to hide
      'wm_1',
      '',
    ])
      expect(maskText(s)).toBe(s);
  });

  it('keeps what it masked as it is where a mask meets a letter or a + (found by the property test)', () => {
    const once = maskText('+86 100000000130 1300 0000 13000000000A');
    expect(once).toBe('+86 ********0130 1300 0000 130****0000A');
    expect(maskText(once)).toBe(once);
    const id = maskText('+0 00000019700101000X');
    expect(id).toBe('+0 000000********000X');
    expect(maskText(id)).toBe(id);
  });

  it('masks card numbers written in groups of four', () => {
    expect(maskText('卡 4111 1111 1111 1111 到期')).toBe('卡 ************1111 到期');
  });
});

describe('maskName and maskAddress', () => {
  it('keeps the first character of a name', () => {
    expect(maskName('张三')).toBe('张*');
    expect(maskName('王小明')).toBe('王**');
    expect(maskName('欧阳小明')).toBe('欧***');
    expect(maskName('John Smith')).toBe('J***');
    expect(maskName('张')).toBe('张*');
  });
  it('masks names that are really phone numbers or e-mails as such', () => {
    expect(maskName('13812345678')).toBe('138****5678');
    expect(maskName('bob@example.com')).toBe('b***@example.com');
    expect(maskName('+44 7911 123456')).toBe('+44 ******3456');
  });
  it('keeps an address down to the district', () => {
    expect(maskAddress('上海市浦东新区世纪大道100号')).toBe('上海市浦东新区****');
    expect(maskAddress('浙江省杭州市西湖区文三路')).toBe('浙江省杭州市西湖区****');
  });
});

const mobileArb = fc
  .tuple(
    fc.constantFrom('13', '15', '17', '18', '19'),
    fc.stringMatching(/^\d{9}$/),
    fc.constantFrom('', ' ', '-'),
  )
  .map(([p, rest, sep]) =>
    sep ? `${p}${rest[0]}${sep}${rest.slice(1, 5)}${sep}${rest.slice(5)}` : p + rest,
  );
const intlArb = fc
  .tuple(fc.constantFrom('1', '44', '852', '33', '81', '86', '971'), fc.stringMatching(/^[1-9]\d{7,10}$/))
  .map(([cc, n]) => `+${cc} ${n}`);
const emailArb = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}$/),
    fc.constantFrom('x.com', 'qq.com', 'mail.example.cn'),
  )
  .map(([l, d]) => `${l}@${d}`);
const idArb = fc
  .tuple(
    fc.stringMatching(/^\d{6}$/),
    fc.date({ min: new Date('1950-01-01'), max: new Date('2010-12-31'), noInvalidDate: true }),
    fc.stringMatching(/^\d{3}[\dX]$/),
  )
  .map(([r, d, t]) => `${r}${d.toISOString().slice(0, 10).replace(/-/g, '')}${t}`);
const noiseArb = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('您好', '订单', ' ', ',', '电话', 'tel:', '+', '*', '@', '号', '北京市朝阳区'),
);
const textArb = fc
  .array(fc.oneof(noiseArb, mobileArb, intlArb, emailArb, idArb), { maxLength: 12 })
  .map((p) => p.join(''));

describe('masking properties', () => {
  it('no readable mobile, international number or e-mail survives', () => {
    fc.assert(
      fc.property(textArb, (s) => {
        expect(findUnmasked(maskText(s))).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(textArb, (s) => {
        const once = maskText(s);
        expect(maskText(once)).toBe(once);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), mobileArb, emailArb, intlArb), (s) => {
        const once = maskName(s);
        expect(maskName(once)).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });

  it('never lengthens digits into view: each masked ID keeps only its first 6 and last 4', () => {
    fc.assert(
      fc.property(idArb, (id) => {
        const m = maskText(`证件${id}号`);
        expect(m).toBe(`证件${id.slice(0, 6)}********${id.slice(14)}号`);
      }),
    );
  });
});
