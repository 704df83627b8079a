import { Link, useParams } from 'react-router';
import type { Address, HistoryEntry, Order } from '@/api/types';
import { isNotFound } from '@/api/errors';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { EmptyState, ErrorView, Loading } from '@/components/feedback';
import { PageHeader } from '@/components/page';
import { Time } from '@/components/time';
import { formatNumber } from '@/lib/format';
import { useCancelOrder, useOrder, useOrderHistory } from '../api/orders';
import { OrderStatusBadge, orderStatusLabel } from '../components/order-status-badge';
import { countryName } from '../lib/countries';

const BACK = (
  <Link to="/orders" className="back-link">
    ← Orders
  </Link>
);

export function OrderDetailRoute() {
  const { orderId = '' } = useParams();
  const order = useOrder(orderId);

  if (order.isPending) {
    return (
      <>
        <PageHeader title="Order" eyebrow={BACK} />
        <Loading />
      </>
    );
  }
  if (order.isError) {
    if (isNotFound(order.error)) {
      return (
        <>
          <PageHeader title="Order not found" eyebrow={BACK} />
          <EmptyState
            title="There is no order with this id"
            action={
              <Link className="button button--secondary" to="/orders">
                Back to orders
              </Link>
            }
          >
            <p>
              It may have been placed by another account, or the link is incomplete. Id:{' '}
              <code>{orderId}</code>
            </p>
          </EmptyState>
        </>
      );
    }
    return (
      <>
        <PageHeader title="Order" eyebrow={BACK} />
        <ErrorView error={order.error} context="The order could not be loaded." />
      </>
    );
  }
  return <OrderView order={order.data} />;
}

function OrderView({ order }: { order: Order }) {
  const cancel = useCancelOrder(order.id);
  const cancellable = order.status === 'pending' || order.status === 'confirmed';
  const metadata = Object.entries(order.metadata ?? {});
  return (
    <>
      <PageHeader
        title={`Order ${order.reference}`}
        eyebrow={BACK}
        description={
          <>
            <OrderStatusBadge status={order.status} /> <span className="muted">since</span>{' '}
            <Time value={order.status_changed_at} /> · <code>{order.id}</code>
          </>
        }
        actions={
          cancellable ? (
            <ConfirmDialog
              trigger="Cancel order"
              triggerClassName="button button--danger-outline"
              title="Cancel this order?"
              confirmLabel="Yes, cancel order"
              cancelLabel="Keep order"
              danger
              onConfirm={() => cancel.mutateAsync()}
            >
              <p>
                Order <strong>{order.reference}</strong> will not be picked up. This cannot be
                undone.
              </p>
            </ConfirmDialog>
          ) : null
        }
      />

      <div className="grid grid--2">
        <section className="card" aria-labelledby="addresses-heading">
          <h2 id="addresses-heading" className="card__title">
            Addresses
          </h2>
          <div className="grid grid--2 grid--tight">
            <AddressBlock title="Origin" address={order.origin} />
            <AddressBlock title="Destination" address={order.destination} />
          </div>
        </section>

        <section className="card" aria-labelledby="shipping-heading">
          <h2 id="shipping-heading" className="card__title">
            Shipping
          </h2>
          <dl className="details">
            <dt>Carrier</dt>
            <dd>{order.carrier ?? <span className="muted">Not set</span>}</dd>
            <dt>Tracking number</dt>
            <dd>{order.tracking_number ? <code>{order.tracking_number}</code> : <span className="muted">Not set</span>}</dd>
            <dt>Estimated delivery</dt>
            <dd>
              <Time value={order.estimated_delivery_at} fallback="Not set" />
            </dd>
            <dt>Placed</dt>
            <dd>
              <Time value={order.created_at} />
            </dd>
          </dl>
        </section>
      </div>

      <section className="section" aria-labelledby="parcels-heading">
        <h2 id="parcels-heading" className="section__title">
          Parcels
        </h2>
        {order.parcels.length === 0 ? (
          <p className="muted">No parcels were listed.</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Parcels</caption>
              <thead>
                <tr>
                  <th scope="col">Parcel</th>
                  <th scope="col" className="num">
                    Weight (g)
                  </th>
                  <th scope="col" className="num">
                    Length (mm)
                  </th>
                  <th scope="col" className="num">
                    Width (mm)
                  </th>
                  <th scope="col" className="num">
                    Height (mm)
                  </th>
                </tr>
              </thead>
              <tbody>
                {order.parcels.map((parcel, i) => (
                  <tr key={i}>
                    <th scope="row">{i + 1}</th>
                    <td className="num">{formatNumber(parcel.weight_grams)}</td>
                    <td className="num">{formatNumber(parcel.length_mm)}</td>
                    <td className="num">{formatNumber(parcel.width_mm)}</td>
                    <td className="num">{formatNumber(parcel.height_mm)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="section" aria-labelledby="metadata-heading">
        <h2 id="metadata-heading" className="section__title">
          Metadata
        </h2>
        {metadata.length === 0 ? (
          <p className="muted">No metadata.</p>
        ) : (
          <dl className="details details--kv">
            {metadata.map(([key, value]) => (
              <div key={key} className="details__row">
                <dt>
                  <code>{key}</code>
                </dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
        )}
      </section>

      <History orderId={order.id} />
    </>
  );
}

function AddressBlock({ title, address }: { title: string; address: Address }) {
  return (
    <div>
      <h3 className="subheading">{title}</h3>
      <address className="address">
        {address.name}
        <br />
        {address.line1}
        {address.line2 ? (
          <>
            <br />
            {address.line2}
          </>
        ) : null}
        <br />
        {address.postal_code} {address.city}
        {address.region ? `, ${address.region}` : ''}
        <br />
        {countryName(address.country)}
      </address>
    </div>
  );
}

function History({ orderId }: { orderId: string }) {
  const history = useOrderHistory(orderId);
  return (
    <section className="section" aria-labelledby="history-heading">
      <h2 id="history-heading" className="section__title">
        Status history
      </h2>
      {history.isPending ? (
        <Loading label="Loading status history…" />
      ) : history.isError ? (
        <ErrorView error={history.error} context="The status history could not be loaded." />
      ) : history.data.data.length === 0 ? (
        <p className="muted">No status changes yet.</p>
      ) : (
        <ol className="timeline" aria-label="Status changes, oldest first">
          {history.data.data.map((entry) => (
            <TimelineItem key={entry.sequence} entry={entry} />
          ))}
        </ol>
      )}
    </section>
  );
}

function TimelineItem({ entry }: { entry: HistoryEntry }) {
  return (
    <li className="timeline__item">
      <div className="timeline__head">
        <span className="timeline__status">{orderStatusLabel(entry.status)}</span>
        <Time value={entry.changed_at} />
      </div>
      {entry.detail || entry.location ? (
        <p className="timeline__detail">
          {entry.detail}
          {entry.detail && entry.location ? ' · ' : ''}
          {entry.location ? <span className="muted">{entry.location}</span> : null}
        </p>
      ) : null}
    </li>
  );
}
