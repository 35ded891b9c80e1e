import { registry } from "@web/core/registry";

/** Back to the overview through the breadcrumbs. */
function backToOverview() {
    return [
        { trigger: ".o_breadcrumb .breadcrumb-item a", run: "click" },
        { trigger: ".o_ar_overview [data-tile='overdue']" },
    ];
}

// The records come from the Python test (TestOverviewHttp): a late customer with an overdue
// invoice, a broken promise, an open dispute and an order waiting for a credit decision.
registry.category("web_tour.tours").add("ar_credit_control_overview_tour", {
    steps: () => [
        {
            content: "The overview shows the overdue amount",
            trigger: ".o_ar_overview [data-tile='overdue'] .o_ar_figure:contains(1,500.00)",
        },
        {
            content: "Open the overdue receivables",
            trigger: ".o_ar_overview [data-tile='overdue']",
            run: "click",
        },
        { trigger: ".o_list_view .o_data_row:contains(Overview Late Customer)" },
        {
            content: "Only overdue lines: the customer whose invoice is not due is not listed",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Overview Early Customer)))",
        },
        ...backToOverview(),
        {
            content: "Open the largest overdue customer",
            trigger: ".o_ar_overview .o_ar_customer:contains(Overview Late Customer)",
            run: "click",
        },
        { trigger: ".o_list_view .o_data_row:contains(Overview Late Customer)" },
        ...backToOverview(),
        {
            content: "Open the orders awaiting a credit decision",
            trigger: ".o_ar_overview [data-tile='hold_orders']:contains(1)",
            run: "click",
        },
        { trigger: ".o_list_view .o_data_row:contains(Overview Late Customer)" },
        ...backToOverview(),
        {
            content: "Open the broken promises",
            trigger: ".o_ar_overview [data-tile='broken_promises']",
            run: "click",
        },
        { trigger: ".o_list_view .o_data_row:contains(Overview Late Customer)" },
        ...backToOverview(),
        {
            content: "Open the open disputes",
            trigger: ".o_ar_overview [data-tile='open_disputes']",
            run: "click",
        },
        { trigger: ".o_list_view .o_data_row:contains(Overview Late Customer)" },
        ...backToOverview(),
        {
            content: "Open the forecast of the next 13 weeks",
            trigger: ".o_ar_overview a[data-tile='forecast']",
            run: "click",
        },
        { trigger: ".o_breadcrumb:contains(Forecast collections, next 13 weeks)" },
    ],
});
