import { describe, expect, it } from 'vitest';
import { formatCompactINR, formatMoney, parseRupees } from './money';

const inr = (paise: number) => ({ amount: paise, currency: 'INR' });

describe('formatMoney (full amount, Indian digit grouping)', () => {
  it('groups the last three digits, then by twos', () => {
    expect(formatMoney(inr(12_500_000_00))).toBe('₹1,25,00,000');
    expect(formatMoney(inr(8_500_000))).toBe('₹85,000');
    expect(formatMoney(inr(99_99_999_00))).toBe('₹99,99,999');
  });
  it('shows paise only when there are some', () => {
    expect(formatMoney(inr(12_345_67))).toBe('₹12,345.67');
    expect(formatMoney(inr(5))).toBe('₹0.05');
    expect(formatMoney(inr(0))).toBe('₹0');
  });
  it('formats other currencies with their own symbol', () => {
    expect(formatMoney({ amount: 1_234_500, currency: 'USD' })).toBe('$12,345');
  });
});

describe('formatCompactINR (lakh and crore)', () => {
  it('keeps amounts under a lakh whole', () => {
    expect(formatCompactINR(inr(99_999_00))).toBe('₹99,999');
  });
  it('uses lakh from 1,00,000 up to just under a crore', () => {
    expect(formatCompactINR(inr(1_00_000_00))).toBe('₹1 L');
    expect(formatCompactINR(inr(45_00_000_00))).toBe('₹45 L');
    expect(formatCompactINR(inr(45_50_000_00))).toBe('₹45.5 L');
    expect(formatCompactINR(inr(12_34_567_00))).toBe('₹12.35 L');
  });
  it('uses crore from 1,00,00,000, grouping the crores the Indian way', () => {
    expect(formatCompactINR(inr(1_00_00_000_00))).toBe('₹1 Cr');
    expect(formatCompactINR(inr(1_25_00_000_00))).toBe('₹1.25 Cr');
    expect(formatCompactINR(inr(125_000 * 10_000_000 * 100))).toBe('₹1,25,000 Cr');
    expect(formatCompactINR(inr(1_250 * 10_000_000 * 100))).toBe('₹1,250 Cr');
  });
  it('rounds 99.999… lakh up into crore rather than printing 100 L', () => {
    expect(formatCompactINR(inr(99_99_999_00))).toBe('₹1 Cr');
  });
  it('spells the unit out in the long form', () => {
    expect(formatCompactINR(inr(45_00_000_00), true)).toBe('₹45 lakh');
    expect(formatCompactINR(inr(2_50_00_000_00), true)).toBe('₹2.5 crore');
  });
  it('leaves other currencies in full', () => {
    expect(formatCompactINR({ amount: 50_000_000_00, currency: 'USD' })).toBe('$5,00,00,000');
  });
});

describe('parseRupees (what people type → paise)', () => {
  it('reads plain and grouped rupees', () => {
    expect(parseRupees('85000')).toBe(85_000_00);
    expect(parseRupees('₹1,25,00,000')).toBe(1_25_00_000_00);
    expect(parseRupees(' 99.50 ')).toBe(9_950);
  });
  it('reads lakh and crore, exactly', () => {
    expect(parseRupees('45 lakh')).toBe(45_00_000_00);
    expect(parseRupees('45L')).toBe(45_00_000_00);
    expect(parseRupees('1.15 cr')).toBe(1_15_00_000_00);
    expect(parseRupees('2 crore')).toBe(2_00_00_000_00);
  });
  it('refuses what is not an amount', () => {
    expect(parseRupees('')).toBeNull();
    expect(parseRupees('abc')).toBeNull();
    expect(parseRupees('-5')).toBeNull();
    expect(parseRupees('1.234')).toBeNull(); // finer than a paisa
  });
  it('round-trips with the full format', () => {
    for (const paise of [85_000_00, 1_25_00_000_00, 12_345_67]) {
      expect(parseRupees(formatMoney(inr(paise)))).toBe(paise);
    }
  });
});
