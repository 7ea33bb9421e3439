// Money is an integer amount in minor units (paise for INR) plus an ISO 4217 code; never a
// float on the wire. These helpers only turn it into text for people, and back.

export interface Money {
  amount: number;
  currency: string;
}

const LAKH = 100_000; // rupees
const CRORE = 10_000_000; // rupees

const fullFormatters = new Map<string, Intl.NumberFormat>();
function fullFormatter(currency: string, fractions: number): Intl.NumberFormat {
  const key = `${currency}/${fractions}`;
  let f = fullFormatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat('en-IN', {
      style: 'currency',
      currency,
      minimumFractionDigits: fractions,
      maximumFractionDigits: fractions,
    });
    fullFormatters.set(key, f);
  }
  return f;
}

const decimals = new Intl.NumberFormat('en-IN', { maximumFractionDigits: 2 });

/** Every digit, Indian grouping: 12500000000 paise → "₹1,25,00,000"; paise shown only when present. */
export function formatMoney(m: Money): string {
  const major = m.amount / 100;
  const fractions = m.amount % 100 === 0 ? 0 : 2;
  return fullFormatter(m.currency, fractions).format(major);
}

/** Whole rupees from paise, Indian grouping, no symbol: 4550000 → "45,500". */
export function formatRupeesPlain(paise: number): string {
  return decimals.format(paise / 100);
}

/**
 * Short INR form in lakh and crore: ₹45 L, ₹1.25 Cr, ₹1,250 Cr; below one lakh the full
 * amount (₹85,000). `long` spells the unit out (₹1.25 crore) for screen readers and titles.
 * Other currencies get their full amount.
 */
export function formatCompactINR(m: Money, long = false): string {
  if (m.currency !== 'INR') return formatMoney(m);
  const rupees = m.amount / 100;
  if (rupees < LAKH) return formatMoney(m);
  // Round to two decimals in lakh first: 99,99,999 is 100.00 L, which reads better as 1 Cr.
  const lakhs = Math.round((rupees / LAKH) * 100) / 100;
  if (lakhs < 100) {
    return `₹${decimals.format(lakhs)}${long ? ' lakh' : ' L'}`;
  }
  const crores = Math.round((rupees / CRORE) * 100) / 100;
  return `₹${decimals.format(crores)}${long ? ' crore' : ' Cr'}`;
}

/**
 * Reads an amount of rupees typed by a person and returns paise, or null when it is not one:
 * "85,000", "₹1,25,00,000", "45 lakh", "45L", "1.25 cr", "2 crore", "99.50".
 */
export function parseRupees(text: string): number | null {
  const t = text.trim().toLowerCase().replace(/^₹|^rs\.?|^inr/, '').replace(/[\s,]/g, '');
  const m = /^(\d+(?:\.\d+)?)(l|lakh|lakhs|lac|cr|crore|crores)?$/.exec(t);
  if (!m || m[1] === undefined) return null;
  const [whole, frac = ''] = m[1].split('.') as [string, string?];
  const unit = m[2] ?? '';
  const scale = unit.startsWith('l') ? LAKH : unit.startsWith('c') ? CRORE : 1;
  // Paise = number × scale × 100, computed on digits so that 1.15 crore is exact.
  const scaleDigits = Math.round(Math.log10(scale * 100));
  if (frac.length > scaleDigits) return null; // finer than a paisa
  const digits = whole + frac.padEnd(scaleDigits, '0');
  const paise = Number(digits);
  if (!Number.isSafeInteger(paise)) return null;
  return paise;
}
