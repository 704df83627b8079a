import { useRouteError } from 'react-router';
import { ErrorView } from '@/components/feedback';
import { PageHeading } from '@/components/page';

/** A page that failed to render or to load its code (e.g. after a new release). */
export function RouteError() {
  const error = useRouteError();
  return (
    <main id="main" className="main">
      <PageHeading title="Something went wrong" />
      <ErrorView error={error} context="This page could not be shown." />
      <p>
        <a href={window.location.href}>Reload the page</a>
      </p>
    </main>
  );
}
