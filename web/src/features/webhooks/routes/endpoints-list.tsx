import { Link, useSearchParams } from 'react-router';
import { EmptyState, ErrorView, Loading } from '@/components/feedback';
import { PageHeader } from '@/components/page';
import { Pager } from '@/components/pager';
import { Time } from '@/components/time';
import { param } from '@/lib/search-params';
import { useEndpoints } from '../api/endpoints';
import { EndpointState } from '../components/endpoint-state';
import { EventTypeList } from '../components/event-type-list';

export function EndpointsListRoute() {
  const [params] = useSearchParams();
  const cursor = param(params, 'cursor');
  const endpoints = useEndpoints(cursor);

  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Endpoints that receive signed POST requests when your orders change."
        actions={
          <Link className="button button--primary" to="/webhooks/new">
            Add endpoint
          </Link>
        }
      />
      {endpoints.isPending ? (
        <Loading />
      ) : endpoints.isError ? (
        <ErrorView error={endpoints.error} context="The endpoints could not be loaded." />
      ) : endpoints.data.data.length === 0 ? (
        <EmptyState
          title={cursor ? 'No more endpoints' : 'No webhook endpoints yet'}
          action={
            <Link className="button button--primary" to="/webhooks/new">
              Add your first endpoint
            </Link>
          }
        >
          <p>Add an endpoint to be told, within seconds, when an order is placed or moves.</p>
        </EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Webhook endpoints</caption>
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col">Description</th>
                  <th scope="col">Event types</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {endpoints.data.data.map((endpoint) => (
                  <tr key={endpoint.id}>
                    <th scope="row" className="cell-url">
                      <Link to={`/webhooks/${endpoint.id}`}>{endpoint.url}</Link>
                    </th>
                    <td>{endpoint.description ?? <span className="muted">—</span>}</td>
                    <td>
                      <EventTypeList types={endpoint.event_types} />
                    </td>
                    <td>
                      <EndpointState endpoint={endpoint} />
                    </td>
                    <td>
                      <Time value={endpoint.created_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager nextCursor={endpoints.data.next_cursor} label="Endpoints" />
        </>
      )}
    </>
  );
}
