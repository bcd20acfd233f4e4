package dockerapi

import (
	"context"
	"io"

	"github.com/moby/moby/client"
)

// SwarmAPI is the part of the Engine API a swarm target uses beyond API:
// a manager's services, tasks and nodes, and moving images between
// engines (image save on one, load on another).
type SwarmAPI interface {
	Info(ctx context.Context, options client.InfoOptions) (client.SystemInfoResult, error)
	SwarmInspect(ctx context.Context, options client.SwarmInspectOptions) (client.SwarmInspectResult, error)

	ServiceCreate(ctx context.Context, options client.ServiceCreateOptions) (client.ServiceCreateResult, error)
	ServiceInspect(ctx context.Context, serviceID string, options client.ServiceInspectOptions) (client.ServiceInspectResult, error)
	ServiceList(ctx context.Context, options client.ServiceListOptions) (client.ServiceListResult, error)
	ServiceUpdate(ctx context.Context, serviceID string, options client.ServiceUpdateOptions) (client.ServiceUpdateResult, error)
	ServiceRemove(ctx context.Context, serviceID string, options client.ServiceRemoveOptions) (client.ServiceRemoveResult, error)
	ServiceLogs(ctx context.Context, serviceID string, options client.ServiceLogsOptions) (client.ServiceLogsResult, error)

	TaskList(ctx context.Context, options client.TaskListOptions) (client.TaskListResult, error)
	TaskInspect(ctx context.Context, taskID string, options client.TaskInspectOptions) (client.TaskInspectResult, error)

	NodeList(ctx context.Context, options client.NodeListOptions) (client.NodeListResult, error)
	NodeInspect(ctx context.Context, nodeID string, options client.NodeInspectOptions) (client.NodeInspectResult, error)
	NodeUpdate(ctx context.Context, nodeID string, options client.NodeUpdateOptions) (client.NodeUpdateResult, error)

	ImageSave(ctx context.Context, imageIDs []string, saveOpts ...client.ImageSaveOption) (client.ImageSaveResult, error)
	ImageLoad(ctx context.Context, input io.Reader, loadOpts ...client.ImageLoadOption) (client.ImageLoadResult, error)
}

func (b *boundedAPI) Info(ctx context.Context, o client.InfoOptions) (client.SystemInfoResult, error) {
	ctx, done := b.call(ctx, "engine info", 0)
	res, err := b.API.Info(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) SwarmInspect(ctx context.Context, o client.SwarmInspectOptions) (client.SwarmInspectResult, error) {
	ctx, done := b.call(ctx, "inspect swarm", 0)
	res, err := b.API.SwarmInspect(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) ServiceCreate(ctx context.Context, o client.ServiceCreateOptions) (client.ServiceCreateResult, error) {
	ctx, done := b.call(ctx, "create service "+o.Spec.Name, 0)
	res, err := b.API.ServiceCreate(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) ServiceInspect(ctx context.Context, id string, o client.ServiceInspectOptions) (client.ServiceInspectResult, error) {
	ctx, done := b.call(ctx, "inspect service "+ShortID(id), 0)
	res, err := b.API.ServiceInspect(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ServiceList(ctx context.Context, o client.ServiceListOptions) (client.ServiceListResult, error) {
	ctx, done := b.call(ctx, "list services", 0)
	res, err := b.API.ServiceList(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) ServiceUpdate(ctx context.Context, id string, o client.ServiceUpdateOptions) (client.ServiceUpdateResult, error) {
	ctx, done := b.call(ctx, "update service "+o.Spec.Name, 0)
	res, err := b.API.ServiceUpdate(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ServiceRemove(ctx context.Context, id string, o client.ServiceRemoveOptions) (client.ServiceRemoveResult, error) {
	ctx, done := b.call(ctx, "remove service "+ShortID(id), 0)
	res, err := b.API.ServiceRemove(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) ServiceLogs(ctx context.Context, id string, o client.ServiceLogsOptions) (client.ServiceLogsResult, error) {
	ctx, done := b.stream(ctx, "service logs "+ShortID(id))
	res, err := b.API.ServiceLogs(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) TaskList(ctx context.Context, o client.TaskListOptions) (client.TaskListResult, error) {
	ctx, done := b.call(ctx, "list tasks", 0)
	res, err := b.API.TaskList(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) TaskInspect(ctx context.Context, id string, o client.TaskInspectOptions) (client.TaskInspectResult, error) {
	ctx, done := b.call(ctx, "inspect task "+ShortID(id), 0)
	res, err := b.API.TaskInspect(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) NodeList(ctx context.Context, o client.NodeListOptions) (client.NodeListResult, error) {
	ctx, done := b.call(ctx, "list nodes", 0)
	res, err := b.API.NodeList(ctx, o)
	return res, done(err)
}

func (b *boundedAPI) NodeInspect(ctx context.Context, id string, o client.NodeInspectOptions) (client.NodeInspectResult, error) {
	ctx, done := b.call(ctx, "inspect node "+ShortID(id), 0)
	res, err := b.API.NodeInspect(ctx, id, o)
	return res, done(err)
}

func (b *boundedAPI) NodeUpdate(ctx context.Context, id string, o client.NodeUpdateOptions) (client.NodeUpdateResult, error) {
	ctx, done := b.call(ctx, "update node "+ShortID(id), 0)
	res, err := b.API.NodeUpdate(ctx, id, o)
	return res, done(err)
}

// ImageSave and ImageLoad stream whole images: bounded until the engine
// answers, then by the caller's context.
func (b *boundedAPI) ImageSave(ctx context.Context, ids []string, o ...client.ImageSaveOption) (client.ImageSaveResult, error) {
	ctx, done := b.stream(ctx, "save images")
	res, err := b.API.ImageSave(ctx, ids, o...)
	return res, done(err)
}

func (b *boundedAPI) ImageLoad(ctx context.Context, input io.Reader, o ...client.ImageLoadOption) (client.ImageLoadResult, error) {
	ctx, done := b.stream(ctx, "load images")
	res, err := b.API.ImageLoad(ctx, input, o...)
	return res, done(err)
}
