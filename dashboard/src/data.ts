// Loading data for a view: abort stale requests, keep showing the last result while the next
// one loads (so filters and date changes do not flash empty cards), and surface errors.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, Redirected } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

export function useData<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: key !== null });
  const [tick, setTick] = useState(0);
  const loader = useRef(load);
  loader.current = load;

  useEffect(() => {
    if (key === null) return undefined;
    const controller = new AbortController();
    setState((s) => ({ data: s.data, loading: true }));
    loader
      .current(controller.signal)
      .then((data) => {
        if (!controller.signal.aborted) setState({ data, loading: false });
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted || err instanceof Redirected) return;
        const error = err instanceof ApiError ? err : new ApiError(0, err instanceof Error ? err.message : String(err));
        setState({ error, loading: false });
      });
    return () => controller.abort();
  }, [key, tick]);

  return { ...state, data: state.data, reload: () => setTick((t) => t + 1) } as Loaded<T>;
}

/** Sets document.title while a page is shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title;
  }, [title]);
}
