import { Link } from 'react-router-dom';
import type { ListingSummary } from '../api/types';
import { Price, StatusBadge, TYPE_LABELS } from './ui';

const count = new Intl.NumberFormat('en-IN');

export function distanceText(m: number): string {
  return m < 1000 ? `${Math.round(m)} m away` : `${(m / 1000).toFixed(m < 10_000 ? 1 : 0)} km away`;
}

export function ListingCard({ item, selected, onFocus }: { item: ListingSummary; selected?: boolean; onFocus?: () => void }) {
  const place = [item.address?.locality, item.address?.city].filter(Boolean).join(', ');
  const facts = [
    item.bedrooms !== undefined && item.property_type !== 'plot' && item.property_type !== 'commercial' ? `${item.bedrooms} BHK` : null,
    item.bathrooms ? `${item.bathrooms} bath` : null,
    item.area_sqft ? `${count.format(item.area_sqft)} sq ft` : null,
  ].filter(Boolean);
  return (
    <article className={`card${selected ? ' selected' : ''}`} aria-labelledby={`t-${item.id}`}>
      <div className="card-top">
        <Price money={item.price} />
        {item.status !== 'active' && <StatusBadge status={item.status} />}
        {item.listing_type === 'fractional' && <span className="badge badge-fractional">Fractional</span>}
      </div>
      <h3 id={`t-${item.id}`} className="card-title">
        <Link to={`/properties/${item.id}`} onFocus={onFocus}>{item.title}</Link>
      </h3>
      <p className="card-meta">
        {TYPE_LABELS[item.property_type] ?? item.property_type}
        {facts.length > 0 && <> · {facts.join(' · ')}</>}
      </p>
      {place && <p className="card-place">{place}</p>}
      <p className="card-foot">
        {item.vastu && <span className="vastu">Vastu {item.vastu.score}/100 ({item.vastu.grade})</span>}
        {item.distance_m !== undefined && <span>{distanceText(item.distance_m)}</span>}
      </p>
    </article>
  );
}
