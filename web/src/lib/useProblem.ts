import { useCallback, useState } from 'react';
import { ApiError, problemMessages, syntheticProblem } from '../api/problem';

export interface ProblemState {
  fields: Record<string, string>;
  summary: string | null;
}

/** Form state for an API failure: messages per field and one for the action. */
export function useProblem(knownFields?: readonly string[]) {
  const [state, setState] = useState<ProblemState>({ fields: {}, summary: null });
  const show = useCallback(
    (e: unknown) => {
      if (e instanceof DOMException && e.name === 'AbortError') return;
      const err = e instanceof ApiError ? e : new ApiError(syntheticProblem(0, e instanceof Error ? e.message : undefined));
      const m = problemMessages(err.problem, { ...(knownFields ? { knownFields } : {}), retryAfter: err.retryAfter });
      setState({ fields: m.fields, summary: m.summary });
    },
    // knownFields is a module constant at every call site
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  const clear = useCallback(() => setState({ fields: {}, summary: null }), []);
  return { ...state, show, clear };
}

/** A one-line human message for an error (no field mapping): for lists and buttons. */
export function messageOf(e: unknown): string {
  const err = e instanceof ApiError ? e : new ApiError(syntheticProblem(0));
  return problemMessages(err.problem, { knownFields: [], retryAfter: err.retryAfter }).summary;
}
