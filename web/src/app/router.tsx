import { lazy } from 'react';
import { createBrowserRouter, Navigate, type RouteObject } from 'react-router';
import { AppLayout } from './layout';
import { NotFoundRoute } from './routes/not-found';
import { RouteError } from './routes/route-error';

// Each feature's pages load on first use, keeping the initial JavaScript small.
const OrdersListRoute = lazy(() =>
  import('@/features/orders/routes/orders-list').then((m) => ({ default: m.OrdersListRoute })),
);
const NewOrderRoute = lazy(() =>
  import('@/features/orders/routes/new-order').then((m) => ({ default: m.NewOrderRoute })),
);
const OrderDetailRoute = lazy(() =>
  import('@/features/orders/routes/order-detail').then((m) => ({ default: m.OrderDetailRoute })),
);
const EndpointsListRoute = lazy(() =>
  import('@/features/webhooks/routes/endpoints-list').then((m) => ({
    default: m.EndpointsListRoute,
  })),
);
const NewEndpointRoute = lazy(() =>
  import('@/features/webhooks/routes/new-endpoint').then((m) => ({ default: m.NewEndpointRoute })),
);
const EndpointLayoutRoute = lazy(() =>
  import('@/features/webhooks/routes/endpoint-layout').then((m) => ({
    default: m.EndpointLayoutRoute,
  })),
);
const EndpointOverviewRoute = lazy(() =>
  import('@/features/webhooks/routes/endpoint-overview').then((m) => ({
    default: m.EndpointOverviewRoute,
  })),
);
const EndpointDeliveriesRoute = lazy(() =>
  import('@/features/webhooks/routes/endpoint-deliveries').then((m) => ({
    default: m.EndpointDeliveriesRoute,
  })),
);
const DeliveryDetailRoute = lazy(() =>
  import('@/features/webhooks/routes/delivery-detail').then((m) => ({
    default: m.DeliveryDetailRoute,
  })),
);
const EventTypesRoute = lazy(() =>
  import('@/features/event-types/routes/event-types').then((m) => ({ default: m.EventTypesRoute })),
);
const ApiKeysRoute = lazy(() =>
  import('@/features/api-keys/routes/api-keys').then((m) => ({ default: m.ApiKeysRoute })),
);

export const routes: RouteObject[] = [
  {
    path: '/',
    element: <AppLayout />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <Navigate to="/webhooks" replace /> },
      { path: 'orders', element: <OrdersListRoute /> },
      { path: 'orders/new', element: <NewOrderRoute /> },
      { path: 'orders/:orderId', element: <OrderDetailRoute /> },
      { path: 'webhooks', element: <EndpointsListRoute /> },
      { path: 'webhooks/new', element: <NewEndpointRoute /> },
      {
        path: 'webhooks/:endpointId',
        element: <EndpointLayoutRoute />,
        children: [
          { index: true, element: <EndpointOverviewRoute /> },
          { path: 'deliveries', element: <EndpointDeliveriesRoute /> },
        ],
      },
      { path: 'deliveries/:deliveryId', element: <DeliveryDetailRoute /> },
      { path: 'event-types', element: <EventTypesRoute /> },
      { path: 'api-keys', element: <ApiKeysRoute /> },
      { path: '*', element: <NotFoundRoute /> },
    ],
  },
];

/** The app's routes under `/portal` (Vite's `base`). */
export const BASENAME = '/portal';

export function createRouter() {
  return createBrowserRouter(routes, { basename: BASENAME });
}
