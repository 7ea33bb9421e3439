// The agent's listings known to this tab (created or opened here). There is no API to list an
// owner's listings yet (web/README.md, "API gaps"); memory only, gone on reload.
import type { Listing } from '../api/types';

export interface DeskEntry {
  id: string;
  title: string;
  status: string;
  price: Listing['price'];
  city?: string | undefined;
}

const entries = new Map<string, DeskEntry>();

export function remember(l: Listing): void {
  entries.set(l.id, { id: l.id, title: l.title, status: l.status, price: l.price, city: l.address?.city });
}

export function known(): DeskEntry[] {
  return [...entries.values()];
}
