import { Link, NavLink, Outlet, useMatch, useOutletContext, useParams } from 'react-router';
import type { Endpoint } from '@/api/types';
import { isNotFound } from '@/api/errors';
import { EmptyState, ErrorView, Loading } from '@/components/feedback';
import { PageHeader } from '@/components/page';
import { useEndpoint } from '../api/endpoints';
import { EndpointState } from '../components/endpoint-state';

const BACK = (
  <Link to="/webhooks" className="back-link">
    ← Webhooks
  </Link>
);

/** The endpoint's heading and its tabs (Overview | Deliveries), which are URLs. */
export function EndpointLayoutRoute() {
  const { endpointId = '' } = useParams();
  const endpoint = useEndpoint(endpointId);
  const onDeliveries = useMatch('/webhooks/:endpointId/deliveries') !== null;
  const title = onDeliveries ? 'Deliveries · Webhook endpoint' : 'Webhook endpoint';

  if (endpoint.isPending) {
    return (
      <>
        <PageHeader title={title} eyebrow={BACK} />
        <Loading />
      </>
    );
  }
  if (endpoint.isError) {
    if (isNotFound(endpoint.error)) {
      return (
        <>
          <PageHeader title="Endpoint not found" eyebrow={BACK} />
          <EmptyState
            title="There is no endpoint with this id"
            action={
              <Link className="button button--secondary" to="/webhooks">
                Back to webhooks
              </Link>
            }
          >
            <p>It may have been deleted. Id: <code>{endpointId}</code></p>
          </EmptyState>
        </>
      );
    }
    return (
      <>
        <PageHeader title="Webhook endpoint" eyebrow={BACK} />
        <ErrorView error={endpoint.error} context="The endpoint could not be loaded." />
      </>
    );
  }
  const data = endpoint.data;
  return (
    <>
      <PageHeader
        title={title}
        eyebrow={BACK}
        description={
          <>
            <EndpointState endpoint={data} /> · <code>{data.id}</code>
          </>
        }
      >
        <span className="break-anywhere">{data.url}</span>
      </PageHeader>
      <nav className="tabs" aria-label="Endpoint sections">
        <NavLink end to={`/webhooks/${data.id}`} className="tabs__link">
          Overview
        </NavLink>
        <NavLink to={`/webhooks/${data.id}/deliveries`} className="tabs__link">
          Deliveries
        </NavLink>
      </nav>
      <Outlet context={data} />
    </>
  );
}

/** The endpoint loaded by {@link EndpointLayoutRoute}. */
export function useLoadedEndpoint(): Endpoint {
  return useOutletContext<Endpoint>();
}
