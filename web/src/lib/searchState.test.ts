import { describe, expect, it } from 'vitest';
import { apiQuery, paramsFromSearch, searchFromParams, type SearchState } from './searchState';

const full: SearchState = {
  q: 'sea view',
  city: 'Mumbai',
  types: ['apartment', 'villa'],
  listingType: 'sale',
  minPrice: 50_00_000_00,
  maxPrice: 2_00_00_000_00,
  minBedrooms: 2,
  near: { lat: 19.076, lng: 72.8777 },
  radiusKm: 10,
  bbox: [72.7, 18.9, 73.05, 19.3],
  sort: 'price_asc',
};

describe('search state ↔ URL', () => {
  it('round-trips every field', () => {
    const url = paramsFromSearch(full).toString();
    expect(searchFromParams(new URLSearchParams(url))).toEqual(full);
  });

  it('uses the API parameter names and units', () => {
    const p = paramsFromSearch(full);
    expect(p.get('type')).toBe('apartment,villa');
    expect(p.get('listing_type')).toBe('sale');
    expect(p.get('min_price')).toBe('500000000'); // ₹50 lakh in paise
    expect(p.get('min_bedrooms')).toBe('2');
    expect(p.get('near')).toBe('19.076,72.8777');
    expect(p.get('radius_km')).toBe('10');
    expect(p.get('bbox')).toBe('72.7,18.9,73.05,19.3');
    expect(p.get('sort')).toBe('price_asc');
  });

  it('writes equal searches as equal URLs, empty as empty', () => {
    expect(paramsFromSearch({ types: [] }).toString()).toBe('');
    const a = searchFromParams(new URLSearchParams('city=Pune&type=villa,apartment'));
    const b = searchFromParams(new URLSearchParams('type=villa,apartment&city=Pune'));
    expect(paramsFromSearch(a).toString()).toBe(paramsFromSearch(b).toString());
  });

  it('rounds map coordinates to 5 decimals so links stay short', () => {
    const s = searchFromParams(new URLSearchParams('bbox=72.123456789,18.1,73.987654321,19.2'));
    expect(paramsFromSearch(s).get('bbox')).toBe('72.12346,18.1,73.98765,19.2');
  });

  it('drops values the API would refuse instead of sending them', () => {
    const s = searchFromParams(new URLSearchParams(
      'type=villa,castle&min_bedrooms=abc&listing_type=rent&bbox=73,19,72,18&near=95,10&radius_km=5&sort=sideways&min_price=-1',
    ));
    expect(s).toEqual({ types: ['villa'] });
  });

  it('keeps max_price only when it is not below min_price', () => {
    expect(searchFromParams(new URLSearchParams('min_price=500&max_price=100')).maxPrice).toBeUndefined();
    expect(searchFromParams(new URLSearchParams('min_price=100&max_price=500')).maxPrice).toBe(500);
  });

  it('drops sorts whose needs are not met (relevance needs q, distance needs near)', () => {
    expect(searchFromParams(new URLSearchParams('sort=relevance')).sort).toBeUndefined();
    expect(searchFromParams(new URLSearchParams('sort=relevance&q=garden')).sort).toBe('relevance');
    expect(searchFromParams(new URLSearchParams('sort=distance')).sort).toBeUndefined();
    expect(paramsFromSearch({ types: [], sort: 'distance' }).has('sort')).toBe(false);
  });

  it('drops radius without a point', () => {
    expect(searchFromParams(new URLSearchParams('radius_km=5')).radiusKm).toBeUndefined();
  });

  it('asks the API for facets on the first page and the cursor on later ones', () => {
    const first = new URLSearchParams(apiQuery({ types: [], city: 'Pune' }, { limit: 24 }));
    expect(first.get('facets')).toBe('type,listing_type,bedrooms,city');
    expect(first.get('limit')).toBe('24');
    expect(first.has('cursor')).toBe(false);
    const next = new URLSearchParams(apiQuery({ types: [], city: 'Pune' }, { limit: 24, cursor: 'abc' }));
    expect(next.get('cursor')).toBe('abc');
    expect(next.has('facets')).toBe(false);
    expect(next.get('city')).toBe('Pune');
  });
});
