// Shapes from api/openapi.yaml (components.schemas). Optional where the API may leave a member out.
import type { Money } from '../lib/money';
export type { Money };

export type Role = 'investor' | 'agent' | 'admin';
export type KycStatus = 'none' | 'pending' | 'approved' | 'rejected';

export interface User {
  id: string;
  email: string;
  name?: string;
  phone?: string | null;
  language?: string;
  role: Role;
  created_at?: string;
  updated_at?: string;
  kyc_status?: KycStatus;
  email_verified?: boolean;
}

/** GET /api/v1/users/{id}/profile: what anyone may know of an agent. */
export interface AgentProfile {
  id: string;
  name: string;
  role: 'agent' | 'admin';
  member_since: string;
  kyc_verified: boolean;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Session {
  id: string;
  device?: string;
  ip?: string;
  created_at?: string;
  last_used_at?: string;
  current?: boolean;
}

export type DocumentType = 'aadhaar' | 'pan' | 'passport';

export interface Kyc {
  user_id?: string;
  status: KycStatus;
  document_type?: DocumentType;
  document_number?: string;
  full_name?: string;
  date_of_birth?: string;
  submitted_at?: string;
  decided_at?: string | null;
  rejection_reason?: string | null;
}

export type ListingStatus = 'draft' | 'active' | 'reserved' | 'sold' | 'withdrawn';
export type Facing = 'N' | 'NE' | 'E' | 'SE' | 'S' | 'SW' | 'W' | 'NW';

export interface Address {
  line?: string;
  locality?: string;
  city?: string;
  state?: string;
  postal_code?: string;
  country?: string;
}

export interface LatLng {
  lat: number;
  lng: number;
}

export interface ListingInput {
  title?: string;
  description?: string;
  property_type?: string;
  listing_type?: 'sale' | 'fractional';
  status?: ListingStatus;
  price?: Money;
  bedrooms?: number;
  bathrooms?: number;
  area_sqft?: number;
  address?: Address;
  location?: LatLng;
  facing?: Facing | null;
  amenities?: string[];
}

export interface Rendition {
  width: number;
  height: number;
  format: 'webp' | 'jpg';
  content_type?: string;
  bytes?: number;
  url: string;
}

export interface ListingImage {
  id: string;
  width?: number;
  height?: number;
  renditions: Rendition[];
}

export interface VastuSummary {
  certificate_id?: string;
  score: number;
  grade: string;
  rules_version?: string;
  issued_at?: string;
}

export interface Listing extends ListingInput {
  id: string;
  owner_id: string;
  version: number;
  title: string;
  property_type: string;
  status: ListingStatus;
  price: Money;
  vastu?: VastuSummary | null;
  token?: Record<string, unknown> | null;
  images?: ListingImage[];
  created_at?: string;
  updated_at?: string;
}

/** A search hit (ListingSummary); the service also sends owner_id, listing_type and version. */
export interface ListingSummary {
  id: string;
  title: string;
  property_type: string;
  listing_type?: string;
  status: string;
  price: Money;
  bedrooms?: number;
  bathrooms?: number;
  area_sqft?: number;
  address?: Address;
  location?: Partial<LatLng>;
  vastu?: { score: number; grade: string } | null;
  distance_m?: number;
  owner_id?: string;
}

export interface SearchPage extends Page<ListingSummary> {
  facets?: Record<string, Record<string, number>>;
}
