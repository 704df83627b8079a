import { Link } from 'react-router';
import { EmptyState } from '@/components/feedback';
import { PageHeader } from '@/components/page';

export function NotFoundRoute() {
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState
        title="There is nothing at this address"
        action={
          <Link className="button button--secondary" to="/webhooks">
            Go to webhooks
          </Link>
        }
      >
        <p>Check the link, or use the navigation above.</p>
      </EmptyState>
    </>
  );
}
