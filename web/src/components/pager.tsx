import { Link, useSearchParams } from 'react-router';
import { toSearch, withParams } from '@/lib/search-params';

interface PagerProps {
  nextCursor: string | null | undefined;
  /** What is paged, for the navigation landmark's name. */
  label: string;
}

/** Cursor paging in the query string: "First page" and "Next page" keep the other filters. */
export function Pager({ nextCursor, label }: PagerProps) {
  const [params] = useSearchParams();
  const onLaterPage = params.has('cursor');
  if (!onLaterPage && !nextCursor) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      {onLaterPage ? (
        <Link className="button button--secondary" to={{ search: toSearch(withParams(params, { cursor: null })) }}>
          First page
        </Link>
      ) : null}
      {nextCursor ? (
        <Link
          className="button button--secondary"
          to={{ search: toSearch(withParams(params, { cursor: nextCursor })) }}
        >
          Next page
        </Link>
      ) : null}
    </nav>
  );
}
