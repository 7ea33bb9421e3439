import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { searchProperties } from '../api/endpoints';
import type { ListingSummary } from '../api/types';
import { ListingCard } from '../components/ListingCard';
import { Empty, FormError, Loading, SelectField, TextField, TYPE_LABELS } from '../components/ui';
import { formatCompactINR } from '../lib/money';
import {
  apiQuery, LISTING_TYPES, paramsFromSearch, PROPERTY_TYPES, searchFromParams, sortAllowed, SORTS,
  type BBox, type PropertyType, type SearchState, type Sort,
} from '../lib/searchState';
import { useProblem } from '../lib/useProblem';
import type { MapPoint } from '../map/MapView';

const MapView = lazy(() => import('../map/MapView'));

const PAGE = 24;
const count = new Intl.NumberFormat('en-IN');
const CITIES = ['Ahmedabad', 'Bengaluru', 'Bhubaneswar', 'Chandigarh', 'Chennai', 'Coimbatore', 'Delhi', 'Goa', 'Gurugram',
  'Hyderabad', 'Indore', 'Jaipur', 'Kochi', 'Kolkata', 'Lucknow', 'Mumbai', 'Mysuru', 'Nagpur', 'Noida', 'Pune', 'Surat',
  'Thiruvananthapuram', 'Vadodara', 'Visakhapatnam'];
// Price steps in rupees, shown in lakh and crore; values in paise like the API.
const PRICE_STEPS = [10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000, 2500].map((lakh) => lakh * 100_000 * 100);
const SORT_LABELS: Record<Sort, string> = {
  relevance: 'Best match',
  newest: 'Newest first',
  price_asc: 'Price: low to high',
  price_desc: 'Price: high to low',
  distance: 'Nearest first',
};
const RADII = [2, 5, 10, 25, 50, 100];
const SEARCH_FIELDS = ['q', 'city', 'type', 'listing_type', 'min_price', 'max_price', 'min_bedrooms', 'near', 'radius_km', 'bbox', 'sort', 'cursor'] as const;

function priceOptions(any: string, current?: number) {
  const steps = current !== undefined && !PRICE_STEPS.includes(current) ? [...PRICE_STEPS, current].sort((a, b) => a - b) : PRICE_STEPS;
  return [{ value: '', label: any }, ...steps.map((v) => ({ value: String(v), label: formatCompactINR({ amount: v, currency: 'INR' }) }))];
}

function titleCase(s: string): string {
  return s.replace(/\b\p{L}/gu, (c) => c.toUpperCase());
}

function useWide(): boolean {
  const query = '(min-width: 960px)';
  const [wide, setWide] = useState(() => typeof matchMedia !== 'undefined' && matchMedia(query).matches);
  useEffect(() => {
    const m = matchMedia(query);
    const on = () => setWide(m.matches);
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, []);
  return wide;
}

interface Results {
  items: ListingSummary[];
  next: string | null;
  facets: Record<string, Record<string, number>>;
}

export function SearchPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const search = useMemo(() => searchFromParams(params), [params]);
  const key = paramsFromSearch(search).toString();
  const problem = useProblem(SEARCH_FIELDS);

  const [results, setResults] = useState<Results | null>(null);
  const [loading, setLoading] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [followMap, setFollowMap] = useState(true);
  const [geoError, setGeoError] = useState<string | null>(null);
  const wide = useWide();
  const [showMap, setShowMap] = useState<boolean | null>(null);
  const mapVisible = showMap ?? wide;

  // Text fields are drafts until submitted; everything else applies at once.
  const [q, setQ] = useState(search.q ?? '');
  const [city, setCity] = useState(search.city ?? '');
  useEffect(() => {
    setQ(search.q ?? '');
    setCity(search.city ?? '');
  }, [search.q, search.city]);

  const apply = useCallback(
    (next: SearchState, opts: { replace?: boolean } = {}) => {
      const s = { ...next };
      if (s.sort && !sortAllowed(s.sort, s)) delete s.sort;
      setParams(paramsFromSearch(s), { replace: opts.replace ?? false });
    },
    [setParams],
  );

  // First page (with facet counts) whenever the search changes.
  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    setMoreError(null);
    problem.clear();
    searchProperties(apiQuery(search, { limit: PAGE }), ctrl.signal)
      .then((page) => setResults({ items: page.items ?? [], next: page.next_cursor ?? null, facets: page.facets ?? {} }))
      .catch((e: unknown) => {
        if (ctrl.signal.aborted) return;
        setResults(null);
        problem.show(e);
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
    // `key` is the search; `search` is derived from it
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const loadMore = async () => {
    if (!results?.next) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await searchProperties(apiQuery(search, { limit: PAGE, cursor: results.next }));
      setResults((r) => r && { ...r, items: [...r.items, ...(page.items ?? [])], next: page.next_cursor ?? null });
    } catch (e) {
      const err = e as { problem?: { detail?: string } };
      setMoreError(err.problem?.detail ?? 'Could not load more listings. Try again.');
    } finally {
      setLoadingMore(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const next: SearchState = { ...search };
    const text = q.trim();
    const place = city.trim();
    if (text) next.q = text; else delete next.q;
    if (place) next.city = place; else delete next.city;
    // Typing a place means "there", not "inside the map's current box".
    if (place && place !== search.city) delete next.bbox;
    if (text && !search.q) next.sort = 'relevance';
    apply(next);
  };

  const nearMe = () => {
    setGeoError(null);
    if (!('geolocation' in navigator)) {
      setGeoError('Your browser cannot share its location.');
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const next: SearchState = { ...search, near: { lat: pos.coords.latitude, lng: pos.coords.longitude }, radiusKm: search.radiusKm ?? 10, sort: 'distance' };
        delete next.bbox;
        apply(next);
      },
      (err) => {
        setGeoError(err.code === err.PERMISSION_DENIED
          ? 'Location permission was refused. Allow it in your browser to search near you.'
          : 'Your location could not be found. Try again, or search by city.');
      },
      { enableHighAccuracy: false, timeout: 10_000, maximumAge: 300_000 },
    );
  };

  const points: MapPoint[] = useMemo(
    () => (results?.items ?? [])
      .filter((i) => typeof i.location?.lat === 'number' && typeof i.location?.lng === 'number')
      .map((i) => ({ id: i.id, lat: i.location!.lat!, lng: i.location!.lng!, label: formatCompactINR(i.price), title: i.title })),
    [results],
  );

  const onMapMove = useCallback(
    (bbox: BBox) => {
      if (!followMap) return;
      const next: SearchState = { ...search, bbox };
      apply(next, { replace: true });
    },
    [apply, followMap, search],
  );

  const typeFacet = results?.facets.type ?? {};
  const total = results && results.facets.type ? Object.values(typeFacet).reduce((a, b) => a + b, 0) : null;
  const bedFacet = results?.facets.bedrooms ?? {};
  const listingFacet = results?.facets.listing_type;
  const bedsAtLeast = (n: number) => Object.entries(bedFacet).reduce((sum, [k, v]) => (Number(k) >= n ? sum + v : sum), 0);
  const cityFacet = Object.entries(results?.facets.city ?? {}).sort((a, b) => b[1] - a[1]).slice(0, 8);

  const toggleType = (t: PropertyType, on: boolean) => {
    const types = on ? [...search.types, t] : search.types.filter((x) => x !== t);
    apply({ ...search, types: PROPERTY_TYPES.filter((x) => types.includes(x)) });
  };

  const setNum = (field: 'minPrice' | 'maxPrice' | 'minBedrooms' | 'radiusKm', value: string) => {
    const next: SearchState = { ...search };
    if (value === '') delete next[field];
    else next[field] = Number(value);
    if (next.minPrice !== undefined && next.maxPrice !== undefined && next.maxPrice < next.minPrice) {
      if (field === 'minPrice') delete next.maxPrice; else delete next.minPrice;
    }
    apply(next);
  };

  const sortValue = search.sort ?? (search.q ? 'relevance' : search.near ? 'distance' : 'newest');
  const filtered = key !== '';

  return (
    <div className={`search-layout${mapVisible ? ' with-map' : ''}`}>
      <section className="search-panel" aria-labelledby="search-heading">
        <h1 id="search-heading" className="visually-hidden">Search homes</h1>
        <form role="search" className="search-form" onSubmit={submit} aria-label="Listings">
          <div className="search-main">
            <TextField label="Search" name="q" type="search" value={q} maxLength={200} onChange={(e) => setQ(e.target.value)}
              placeholder="e.g. sea view, Powai" error={problem.fields.q} />
            <TextField label="City" name="city" value={city} list="city-list" maxLength={100} onChange={(e) => setCity(e.target.value)}
              error={problem.fields.city} autoComplete="off" />
            <datalist id="city-list">{CITIES.map((c) => <option key={c} value={c} />)}</datalist>
            <button type="submit" className="primary">Search</button>
          </div>
          <fieldset className="types">
            <legend>Property type</legend>
            {PROPERTY_TYPES.map((t) => (
              <label key={t} className="check">
                <input type="checkbox" checked={search.types.includes(t)} onChange={(e) => toggleType(t, e.target.checked)} />
                {TYPE_LABELS[t]}
                {results?.facets.type && <span className="facet-count"> ({count.format(typeFacet[t] ?? 0)})</span>}
              </label>
            ))}
          </fieldset>
          <div className="filters">
            <SelectField label="Listing" value={search.listingType ?? ''} onChange={(e) => {
              const v = e.target.value;
              const next = { ...search };
              if (v) next.listingType = v as SearchState['listingType']; else delete next.listingType;
              apply(next);
            }} options={[{ value: '', label: 'Any' }, ...LISTING_TYPES.map((t) => ({
              value: t,
              // Counted under the filters: shown only while no listing type is chosen.
              label: `${t === 'sale' ? 'Whole property' : 'Fractional shares'}${listingFacet && !search.listingType ? ` (${count.format(listingFacet[t] ?? 0)})` : ''}`,
            }))]} error={problem.fields.listing_type} />
            <SelectField label="Min price" value={search.minPrice?.toString() ?? ''} onChange={(e) => setNum('minPrice', e.target.value)}
              options={priceOptions('No min', search.minPrice)} error={problem.fields.min_price} />
            <SelectField label="Max price" value={search.maxPrice?.toString() ?? ''} onChange={(e) => setNum('maxPrice', e.target.value)}
              options={priceOptions('No max', search.maxPrice)} error={problem.fields.max_price} />
            <SelectField label="Bedrooms" value={search.minBedrooms?.toString() ?? ''} onChange={(e) => setNum('minBedrooms', e.target.value)}
              options={[{ value: '', label: 'Any' }, ...[1, 2, 3, 4, 5].map((n) => ({
                value: String(n),
                label: `${n}+ BHK${results?.facets.bedrooms && search.minBedrooms === undefined ? ` (${count.format(bedsAtLeast(n))})` : ''}`,
              }))]} error={problem.fields.min_bedrooms} />
            <SelectField label="Sort" value={sortValue} onChange={(e) => apply({ ...search, sort: e.target.value as Sort })}
              options={SORTS.filter((s) => sortAllowed(s, search)).map((s) => ({ value: s, label: SORT_LABELS[s] }))} error={problem.fields.sort} />
          </div>
          <div className="near">
            {search.near ? (
              <>
                <SelectField label="Near you, within" value={String(search.radiusKm ?? '')} onChange={(e) => setNum('radiusKm', e.target.value)}
                  options={[{ value: '', label: 'Any distance' }, ...RADII.map((r) => ({ value: String(r), label: `${r} km` }))]} error={problem.fields.radius_km ?? problem.fields.near} />
                <button type="button" onClick={() => { const n = { ...search }; delete n.near; delete n.radiusKm; apply(n); }}>Stop searching near me</button>
              </>
            ) : (
              <button type="button" onClick={nearMe}>Near me</button>
            )}
            {filtered && <button type="button" className="link-button" onClick={() => navigate('/')}>Clear all</button>}
          </div>
          {geoError && <p className="field-error" role="alert">{geoError}</p>}
        </form>

        <div className="results-bar">
          <p aria-live="polite" className="results-count">
            {loading ? 'Searching…' : total !== null ? `${count.format(total)} listing${total === 1 ? '' : 's'}${search.bbox ? ' in the map area' : ''}` : ''}
          </p>
          <div className="results-actions">
            {search.bbox && (
              <button type="button" className="link-button" onClick={() => { const n = { ...search }; delete n.bbox; apply(n); }}>
                Search everywhere
              </button>
            )}
            <button type="button" aria-pressed={mapVisible} aria-controls={mapVisible ? 'results-map' : undefined} onClick={() => setShowMap(!mapVisible)}>
              {mapVisible ? 'Hide map' : 'Show map'}
            </button>
          </div>
        </div>

        <FormError message={problem.summary} />
        {/* After the count, not above it: chips arriving with the results move nothing already shown. */}
        {cityFacet.length > 0 && !search.city && (
          <nav aria-label="Cities with listings" className="city-facets">
            <ul>
              {cityFacet.map(([c, n]) => (
                <li key={c}>
                  <button type="button" className="chip" onClick={() => { const next = { ...search, city: titleCase(c) }; delete next.bbox; apply(next); }}>
                    {titleCase(c)} <span className="facet-count">({count.format(n)})</span>
                  </button>
                </li>
              ))}
            </ul>
          </nav>
        )}

        {loading && !results && <Loading label="Searching listings…" />}
        {results && results.items.length === 0 && !loading && (
          <Empty>
            <p><strong>No listings match this search.</strong></p>
            <p>Try fewer filters{search.bbox ? ', zoom the map out,' : ''} or another city.</p>
          </Empty>
        )}
        {results && results.items.length > 0 && (
          <>
            <h2 className="visually-hidden">Results</h2>
            <ul className={`results${loading ? ' stale' : ''}`} aria-busy={loading}>
              {results.items.map((item) => (
                <li key={item.id}>
                  <ListingCard item={item} selected={item.id === selected} onFocus={() => setSelected(item.id)} />
                </li>
              ))}
            </ul>
            <div className="more">
              {results.next ? (
                <button type="button" onClick={() => void loadMore()} disabled={loadingMore}>
                  {loadingMore ? 'Loading…' : 'Load more'}
                </button>
              ) : (
                <p className="muted">That is every listing for this search.</p>
              )}
              {moreError && <p className="field-error" role="alert">{moreError}</p>}
            </div>
          </>
        )}
      </section>

      {mapVisible && (
        <section id="results-map" className="map-panel" aria-label="Map of results">
          <label className="check follow">
            <input type="checkbox" checked={followMap} onChange={(e) => setFollowMap(e.target.checked)} />
            Search as I move the map
          </label>
          <Suspense fallback={<div className="map map-loading"><Loading label="Loading map…" /></div>}>
            <MapView
              points={points}
              initialBounds={search.bbox}
              fitPoints={!search.bbox}
              onMoveEnd={onMapMove}
              onSelect={(id) => navigate(`/properties/${id}`)}
              selectedId={selected}
              label="Map of listings. Use the buttons on the map to open a listing or zoom into a cluster."
            />
          </Suspense>
        </section>
      )}
    </div>
  );
}
