// The listing form's text values, to and from the API's ListingInput, and what changed.
import type { Listing, ListingInput, ListingStatus } from '../api/types';
import { formatRupeesPlain, parseRupees } from './money';

export interface ListingForm {
  title: string;
  description: string;
  property_type: string;
  listing_type: 'sale' | 'fractional';
  status: ListingStatus;
  price: string; // rupees as typed: "85,00,000", "85 lakh", "1.2 cr"
  bedrooms: string;
  bathrooms: string;
  area_sqft: string;
  line: string;
  locality: string;
  city: string;
  state: string;
  postal_code: string;
  lat: string;
  lng: string;
  facing: string;
  amenities: string; // comma-separated
}

export const emptyForm = (): ListingForm => ({
  title: '', description: '', property_type: 'apartment', listing_type: 'sale', status: 'draft', price: '',
  bedrooms: '', bathrooms: '', area_sqft: '', line: '', locality: '', city: '', state: '', postal_code: '',
  lat: '', lng: '', facing: '', amenities: '',
});

export function formFromListing(l: Listing): ListingForm {
  const a = l.address ?? {};
  return {
    title: l.title ?? '',
    description: l.description ?? '',
    property_type: l.property_type ?? 'apartment',
    listing_type: l.listing_type ?? 'sale',
    status: l.status,
    price: l.price ? formatRupeesPlain(l.price.amount) : '',
    bedrooms: l.bedrooms?.toString() ?? '',
    bathrooms: l.bathrooms?.toString() ?? '',
    area_sqft: l.area_sqft?.toString() ?? '',
    line: a.line ?? '',
    locality: a.locality ?? '',
    city: a.city ?? '',
    state: a.state ?? '',
    postal_code: a.postal_code ?? '',
    lat: l.location?.lat?.toString() ?? '',
    lng: l.location?.lng?.toString() ?? '',
    facing: l.facing ?? '',
    amenities: (l.amenities ?? []).join(', '),
  };
}

/** The input the form describes, or the fields it cannot be (checked here before sending). */
export function inputFromForm(f: ListingForm, creating: boolean): { input: ListingInput; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const input: ListingInput = {
    title: f.title.trim(),
    description: f.description.trim(),
    property_type: f.property_type,
    listing_type: f.listing_type,
  };
  if (creating) input.status = f.status === 'active' ? 'active' : 'draft';
  const paise = parseRupees(f.price);
  if (paise === null) errors.price = 'Enter the price in rupees, e.g. 85,00,000 or 85 lakh or 1.2 crore.';
  else input.price = { amount: paise, currency: 'INR' };
  for (const k of ['bedrooms', 'bathrooms', 'area_sqft'] as const) {
    const t = f[k].trim();
    if (t === '') {
      errors[k] = 'Enter a whole number.';
      continue;
    }
    if (!/^\d+$/.test(t)) errors[k] = 'Enter a whole number.';
    else input[k] = Number(t);
  }
  input.address = {
    line: f.line.trim(), locality: f.locality.trim(), city: f.city.trim(), state: f.state.trim(),
    postal_code: f.postal_code.trim(), country: 'IN',
  };
  const lat = Number(f.lat);
  const lng = Number(f.lng);
  if (f.lat.trim() === '' || !Number.isFinite(lat) || Math.abs(lat) > 90) errors['location.lat'] = 'Enter a latitude in degrees, e.g. 19.0760.';
  if (f.lng.trim() === '' || !Number.isFinite(lng) || Math.abs(lng) > 180) errors['location.lng'] = 'Enter a longitude in degrees, e.g. 72.8777.';
  if (!errors['location.lat'] && !errors['location.lng']) input.location = { lat, lng };
  input.facing = f.facing ? (f.facing as ListingInput['facing']) : null;
  input.amenities = f.amenities.split(',').map((s) => s.trim()).filter(Boolean);
  return { input, errors };
}

const KEYS: (keyof ListingInput)[] = [
  'title', 'description', 'property_type', 'listing_type', 'price', 'bedrooms', 'bathrooms', 'area_sqft',
  'address', 'location', 'facing', 'amenities',
];

function norm(v: unknown): string {
  if (v === undefined || v === '' ) return 'null';
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    return JSON.stringify(Object.keys(o).sort().filter((k) => o[k] !== undefined && o[k] !== '').map((k) => [k, o[k]]));
  }
  return JSON.stringify(v ?? null);
}

/** The members of `input` that differ from `base` (objects are sent whole when any part changed). */
export function changedFields(input: ListingInput, base: ListingInput): ListingInput {
  const out: Record<string, unknown> = {};
  for (const k of KEYS) {
    if (input[k] === undefined) continue;
    const a = k === 'address' ? { ...input.address, country: input.address?.country ?? 'IN' } : input[k];
    const b = k === 'address' ? { ...base.address, country: base.address?.country ?? 'IN' } : base[k];
    if (norm(a) !== norm(b)) out[k] = input[k];
  }
  return out as ListingInput;
}

/** Status moves a listing may make (docs/property-data.md). */
export const TRANSITIONS: Record<ListingStatus, ListingStatus[]> = {
  draft: ['active', 'withdrawn'],
  active: ['reserved', 'withdrawn'],
  reserved: ['active', 'sold'],
  withdrawn: ['draft', 'active'],
  sold: [],
};
