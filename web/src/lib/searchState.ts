// The whole search lives in the page URL, so a search can be shared and reloaded. The URL uses
// the API's own parameter names and units (GET /api/v1/properties: prices in paise, bbox as
// MIN_LNG,MIN_LAT,MAX_LNG,MAX_LAT), so what you see in the address bar is what the API gets.
// Values the API would refuse (400 invalid-query) are dropped when read, never sent.

export const PROPERTY_TYPES = ['apartment', 'independent_house', 'villa', 'plot', 'commercial'] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];
export const LISTING_TYPES = ['sale', 'fractional'] as const;
export type ListingType = (typeof LISTING_TYPES)[number];
export const SORTS = ['relevance', 'newest', 'price_asc', 'price_desc', 'distance'] as const;
export type Sort = (typeof SORTS)[number];

export type BBox = [minLng: number, minLat: number, maxLng: number, maxLat: number];

export interface SearchState {
  q?: string;
  city?: string;
  types: PropertyType[];
  listingType?: ListingType;
  minPrice?: number; // paise
  maxPrice?: number; // paise
  minBedrooms?: number;
  near?: { lat: number; lng: number };
  radiusKm?: number;
  bbox?: BBox;
  sort?: Sort;
}

export const emptySearch = (): SearchState => ({ types: [] });

const MAX_PRICE = 1_000_000_000_000_000; // the API's bound, paise

function int(v: string | null, min: number, max: number): number | undefined {
  if (v === null || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

function num(v: string): number | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(v.trim())) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Coordinates in the URL: 5 decimals (about a metre) is plenty, and keeps links short. */
export function roundCoord(v: number): number {
  return Math.round(v * 1e5) / 1e5;
}

function text(v: string | null, max: number): string | undefined {
  if (v === null) return undefined;
  const t = v.trim();
  return t.length > 0 && t.length <= max ? t : undefined;
}

/** Reads a search from URL query parameters, keeping only values the API accepts. */
export function searchFromParams(p: URLSearchParams): SearchState {
  const s: SearchState = { types: [] };
  const q = text(p.get('q'), 200);
  if (q) s.q = q;
  const city = text(p.get('city'), 100);
  if (city) s.city = city;
  const types = (p.get('type') ?? '').split(',').filter((t): t is PropertyType =>
    (PROPERTY_TYPES as readonly string[]).includes(t));
  s.types = [...new Set(types)];
  const lt = p.get('listing_type');
  if (lt && (LISTING_TYPES as readonly string[]).includes(lt)) s.listingType = lt as ListingType;
  const minPrice = int(p.get('min_price'), 0, MAX_PRICE);
  const maxPrice = int(p.get('max_price'), 0, MAX_PRICE);
  if (minPrice !== undefined) s.minPrice = minPrice;
  if (maxPrice !== undefined && (minPrice === undefined || maxPrice >= minPrice)) s.maxPrice = maxPrice;
  const beds = int(p.get('min_bedrooms'), 0, 50);
  if (beds !== undefined) s.minBedrooms = beds;
  const near = (p.get('near') ?? '').split(',');
  if (near.length === 2) {
    const lat = num(near[0]!);
    const lng = num(near[1]!);
    if (lat !== undefined && lng !== undefined && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) {
      s.near = { lat, lng };
    }
  }
  const radius = num(p.get('radius_km') ?? '');
  if (s.near && radius !== undefined && radius > 0 && radius <= 100) s.radiusKm = radius;
  const box = (p.get('bbox') ?? '').split(',').map(num);
  if (box.length === 4 && box.every((v) => v !== undefined)) {
    const [a, b, c, d] = box as number[] as BBox;
    if (a < c && b < d && Math.abs(a) <= 180 && Math.abs(c) <= 180 && Math.abs(b) <= 90 && Math.abs(d) <= 90) {
      s.bbox = [a, b, c, d];
    }
  }
  const sort = p.get('sort');
  if (sort && (SORTS as readonly string[]).includes(sort) && sortAllowed(sort as Sort, s)) s.sort = sort as Sort;
  return s;
}

/** relevance needs words to rank by, distance needs a point to measure from. */
export function sortAllowed(sort: Sort, s: Pick<SearchState, 'q' | 'near'>): boolean {
  if (sort === 'relevance') return !!s.q;
  if (sort === 'distance') return !!s.near;
  return true;
}

/** Writes a search as URL query parameters, in a fixed order (equal searches, equal URLs). */
export function paramsFromSearch(s: SearchState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  if (s.city) p.set('city', s.city);
  if (s.types.length) p.set('type', s.types.join(','));
  if (s.listingType) p.set('listing_type', s.listingType);
  if (s.minPrice !== undefined) p.set('min_price', String(s.minPrice));
  if (s.maxPrice !== undefined) p.set('max_price', String(s.maxPrice));
  if (s.minBedrooms !== undefined) p.set('min_bedrooms', String(s.minBedrooms));
  if (s.near) p.set('near', `${roundCoord(s.near.lat)},${roundCoord(s.near.lng)}`);
  if (s.near && s.radiusKm !== undefined) p.set('radius_km', String(s.radiusKm));
  if (s.bbox) p.set('bbox', s.bbox.map(roundCoord).join(','));
  if (s.sort && sortAllowed(s.sort, s)) p.set('sort', s.sort);
  return p;
}

export const FACETS = 'type,listing_type,bedrooms,city';

/**
 * The API request for one page: the search, then `limit`, and either `cursor` (a further
 * page, same sort) or `facets` (the first page asks for the counts).
 */
export function apiQuery(s: SearchState, opts: { limit: number; cursor?: string | null }): string {
  const p = paramsFromSearch(s);
  p.set('limit', String(opts.limit));
  if (opts.cursor) p.set('cursor', opts.cursor);
  else p.set('facets', FACETS);
  return p.toString();
}

/** Two searches are the same when their URLs are. */
export function sameSearch(a: SearchState, b: SearchState): boolean {
  return paramsFromSearch(a).toString() === paramsFromSearch(b).toString();
}
