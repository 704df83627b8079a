import type { FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ORDER_STATUSES, type OrderStatus } from '@/api/types';
import { EmptyState, ErrorView, Loading } from '@/components/feedback';
import { PageHeader } from '@/components/page';
import { Pager } from '@/components/pager';
import { Time } from '@/components/time';
import { param, toSearch, withParams } from '@/lib/search-params';
import { useOrders } from '../api/orders';
import { OrderStatusBadge, orderStatusLabel } from '../components/order-status-badge';
import { countryName } from '../lib/countries';

export function OrdersListRoute() {
  const [params, setParams] = useSearchParams();
  const status = param(params, 'status') as OrderStatus | undefined;
  const cursor = param(params, 'cursor');
  const orders = useOrders({ status, cursor });

  function applyFilters(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    // A new filter starts again at the first page.
    setParams(withParams(params, { status: String(form.get('status') ?? ''), cursor: null }));
  }

  return (
    <>
      <PageHeader
        title="Orders"
        description="Shipping orders you have placed, newest first."
        actions={
          <Link className="button button--primary" to="/orders/new">
            Place order
          </Link>
        }
      />

      <form className="filters" onSubmit={applyFilters} aria-label="Filter orders">
        <div className="field field--inline">
          <label htmlFor="filter-status" className="field__label">
            Status
          </label>
          <select
            id="filter-status"
            name="status"
            className="input select"
            defaultValue={status ?? ''}
            key={status ?? ''}
          >
            <option value="">All statuses</option>
            {ORDER_STATUSES.map((s) => (
              <option key={s} value={s}>
                {orderStatusLabel(s)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button button--secondary">
          Apply filters
        </button>
        {status ? (
          <Link className="link-button" to={{ search: toSearch(withParams(params, { status: null, cursor: null })) }}>
            Clear filters
          </Link>
        ) : null}
      </form>

      {orders.isPending ? (
        <Loading />
      ) : orders.isError ? (
        <ErrorView error={orders.error} context="The orders could not be loaded." />
      ) : orders.data.data.length === 0 ? (
        status || cursor ? (
          <EmptyState title="No orders match these filters">
            <p>Try another status, or clear the filters.</p>
          </EmptyState>
        ) : (
          <EmptyState
            title="No orders yet"
            action={
              <Link className="button button--primary" to="/orders/new">
                Place your first order
              </Link>
            }
          >
            <p>Orders you place here or through the API appear in this list.</p>
          </EmptyState>
        )
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Orders</caption>
              <thead>
                <tr>
                  <th scope="col">Reference</th>
                  <th scope="col">Status</th>
                  <th scope="col">Destination</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {orders.data.data.map((order) => (
                  <tr key={order.id}>
                    <th scope="row">
                      <Link to={`/orders/${order.id}`}>{order.reference}</Link>
                    </th>
                    <td>
                      <OrderStatusBadge status={order.status} />
                    </td>
                    <td>
                      {order.destination.city}, {countryName(order.destination.country)}
                    </td>
                    <td>
                      <Time value={order.created_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager nextCursor={orders.data.next_cursor} label="Orders" />
        </>
      )}
    </>
  );
}
