import { lazy, Suspense, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { getAgentProfile, getListing } from '../api/endpoints';
import { ApiError } from '../api/problem';
import type { AgentProfile, Listing } from '../api/types';
import { Photos } from '../components/Photos';
import { Empty, FormError, Loading, Price, StatusBadge, TYPE_LABELS } from '../components/ui';
import { useAuth } from '../lib/auth';
import { formatMoney, type Money } from '../lib/money';
import { messageOf } from '../lib/useProblem';

const MapView = lazy(() => import('../map/MapView'));
const count = new Intl.NumberFormat('en-IN');
const date = new Intl.DateTimeFormat('en-IN', { dateStyle: 'medium' });
// A calendar day (YYYY-MM-DD parses as UTC midnight): shown as that day wherever the reader is.
const day = new Intl.DateTimeFormat('en-IN', { dateStyle: 'medium', timeZone: 'UTC' });

function when(iso?: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : date.format(d);
}

/** The agent's public profile (GET /users/{id}/profile); an owner without one (say, a buyer
 *  after a sale) stays unnamed. */
function ListedBy({ ownerId, mine }: { ownerId: string; mine: boolean }) {
  const [agent, setAgent] = useState<AgentProfile | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    setAgent(undefined);  // another listing: not the previous agent meanwhile
    getAgentProfile(ownerId)
      .then((a) => live && setAgent(a))
      .catch(() => live && setAgent(null));
    return () => {
      live = false;
    };
  }, [ownerId]);
  if (mine) return <p>You.</p>;
  if (agent === undefined) return <p className="muted">…</p>;
  if (agent === null) return <p>A REST-iN-U member.</p>;
  return (
    <p className="agent">
      <strong>{agent.name || 'An agent'}</strong>, {agent.role === 'admin' ? 'REST-iN-U staff' : 'agent'} since{' '}
      {day.format(new Date(agent.member_since))}{agent.kyc_verified && <> · <span className="badge badge-active">KYC verified</span></>}
    </p>
  );
}

export default function PropertyPage() {
  const { id = '' } = useParams();
  const { user } = useAuth();
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    // Wait for the session: a draft is only visible with its owner's token.
    if (user === undefined) return;
    let live = true;
    setError(null);
    getListing(id)
      .then((r) => live && setListing(r.data))
      .catch((e: unknown) => live && setError(e));
    return () => {
      live = false;
    };
  }, [id, user]);

  useEffect(() => {
    if (listing) document.title = `${listing.title} · REST-iN-U`;
    return () => {
      document.title = 'REST-iN-U · Homes across India';
    };
  }, [listing]);

  if (error) {
    const notFound = error instanceof ApiError && error.status === 404;
    return (
      <section className="page narrow">
        <h1>{notFound ? 'Listing not found' : 'Could not load this listing'}</h1>
        {notFound ? (
          <Empty>
            <p>It may have been withdrawn, or it is a draft that only its owner can see{user ? '' : ' (sign in if it is yours)'}.</p>
            <p><Link to="/">Back to search</Link></p>
          </Empty>
        ) : (
          <FormError message={messageOf(error)} />
        )}
      </section>
    );
  }
  if (!listing) return <Loading label="Loading listing…" />;

  const mine = user && user.id === listing.owner_id;
  const canEdit = mine || user?.role === 'admin';
  const a = listing.address ?? {};
  const place = [a.line, a.locality, a.city, a.state, a.postal_code].filter(Boolean).join(', ');
  const loc = listing.location;
  const token = listing.token as { symbol?: string; total_shares?: number; price_per_share?: Money } | null | undefined;

  return (
    <article className="page property" aria-labelledby="listing-title">
      <p className="crumbs"><Link to="/">← Back to search</Link></p>
      {(listing.status === 'draft' || listing.status === 'withdrawn') && (
        <div className="notice notice-warn" role="status">
          {listing.status === 'draft' ? 'Draft: not public.' : 'Withdrawn: no longer public.'} Only its owner and admins can see this page.
        </div>
      )}
      <header className="property-head">
        <h1 id="listing-title">{listing.title}</h1>
        <p className="property-price"><Price money={listing.price} full /></p>
        <p><StatusBadge status={listing.status} /> {listing.listing_type === 'fractional' && <span className="badge badge-fractional">Fractional shares</span>}</p>
        {place && <p className="muted">{place}</p>}
        {canEdit && <p><Link className="button" to={`/desk/${listing.id}/edit`}>Edit listing</Link></p>}
      </header>

      <div className="property-grid">
        <section aria-labelledby="facts-h">
          <h2 id="facts-h">Facts</h2>
          <dl className="facts">
            <dt>Type</dt><dd>{TYPE_LABELS[listing.property_type] ?? listing.property_type}</dd>
            {listing.bedrooms !== undefined && <><dt>Bedrooms</dt><dd>{listing.bedrooms}</dd></>}
            {listing.bathrooms !== undefined && <><dt>Bathrooms</dt><dd>{listing.bathrooms}</dd></>}
            {listing.area_sqft !== undefined && <><dt>Area</dt><dd>{count.format(listing.area_sqft)} sq ft</dd></>}
            {listing.area_sqft ? <><dt>Price per sq ft</dt><dd>{formatMoney({ amount: Math.round(listing.price.amount / listing.area_sqft / 100) * 100, currency: listing.price.currency })}</dd></> : null}
            {listing.facing && <><dt>Facing</dt><dd>{listing.facing}</dd></>}
            <dt>Listed</dt><dd>{when(listing.created_at)}</dd>
            <dt>Updated</dt><dd>{when(listing.updated_at)}</dd>
          </dl>
          {listing.amenities && listing.amenities.length > 0 && (
            <>
              <h3>Amenities</h3>
              <ul className="tags">{listing.amenities.map((x) => <li key={x}>{x.replace(/_/g, ' ')}</li>)}</ul>
            </>
          )}
          {listing.description && (
            <>
              <h3>Description</h3>
              <p className="description">{listing.description}</p>
            </>
          )}
        </section>

        <section aria-labelledby="vastu-h">
          <h2 id="vastu-h">Vastu</h2>
          {listing.vastu ? (
            <p>
              <span className="vastu-score">{listing.vastu.score}/100</span> grade {listing.vastu.grade}{listing.vastu.issued_at ? `, certified ${when(listing.vastu.issued_at)}` : ''}.
              {listing.vastu.certificate_id && (
                <> <a href={`/api/v1/vastu/certificates/${encodeURIComponent(listing.vastu.certificate_id)}`}>Signed certificate (JSON)</a></>
              )}
            </p>
          ) : (
            <p className="muted">Not certified.</p>
          )}
          <h2>Listed by</h2>
          <ListedBy ownerId={listing.owner_id} mine={Boolean(mine)} />
          {token && (
            <>
              <h2>Shares</h2>
              <p>
                {token.total_shares !== undefined && <>{count.format(token.total_shares)} shares</>}
                {token.symbol && <> ({token.symbol})</>}
                {token.price_per_share && <> at {formatMoney(token.price_per_share)} each</>}.
              </p>
            </>
          )}
        </section>
      </div>

      <section aria-labelledby="photos-h">
        <h2 id="photos-h">Photos</h2>
        <Photos images={listing.images ?? []} title={listing.title} />
      </section>

      {loc && typeof loc.lat === 'number' && typeof loc.lng === 'number' && (
        <section aria-labelledby="where-h">
          <h2 id="where-h">Location</h2>
          <Suspense fallback={<div className="map map-small map-loading"><Loading label="Loading map…" /></div>}>
            <div className="map-small">
              <MapView single points={[{ id: listing.id, lat: loc.lat, lng: loc.lng, label: 'Here', title: listing.title }]} label={`Map: where ${listing.title} is`} />
            </div>
          </Suspense>
        </section>
      )}
    </article>
  );
}
