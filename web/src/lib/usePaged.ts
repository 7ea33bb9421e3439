// A list read in keyset pages ({ items, next_cursor }), with "Load more". One mechanism for every
// paged list of the app (agent's listings, admin's users and KYC queue).
import { useCallback, useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react';
import type { Page } from '../api/types';
import { messageOf } from './useProblem';

export interface Paged<T> {
  /** null until the first page arrives (or after a failed first page). */
  items: T[] | null;
  setItems: Dispatch<SetStateAction<T[] | null>>;
  /** Whether another page exists. */
  more: boolean;
  busy: boolean;
  /** The failure of the last load, as a sentence. */
  error: string | null;
  loadMore: () => void;
}

/**
 * `fetchPage` must be memoised (useCallback) on its inputs: a new function starts the list again
 * from its first page. An answer to a request made before that (a slow page of the old filter)
 * is dropped.
 */
export function usePaged<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>): Paged<T> {
  const [items, setItems] = useState<T[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const inFlight = useRef(false);  // one page at a time: a double click never loads a page twice

  const load = useCallback(async (cursor: string | null, gen: number) => {
    inFlight.current = true;
    setBusy(true);
    setError(null);
    try {
      const page = await fetchPage(cursor);
      if (gen !== generation.current) return;
      setItems((prev) => (cursor && prev ? [...prev, ...page.items] : page.items));
      setNext(page.next_cursor);
    } catch (e) {
      if (gen === generation.current) setError(messageOf(e));
    } finally {
      if (gen === generation.current) {
        inFlight.current = false;
        setBusy(false);
      }
    }
  }, [fetchPage]);

  useEffect(() => {
    generation.current += 1;
    setItems(null);
    setNext(null);
    void load(null, generation.current);
  }, [load]);

  const loadMore = useCallback(() => {
    if (next && !inFlight.current) void load(next, generation.current);
  }, [load, next]);

  return { items, setItems, more: next !== null, busy, error, loadMore };
}
